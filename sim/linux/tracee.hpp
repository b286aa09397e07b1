// One real Linux process that stands for one trace process in `vmsim linux`
// (docs/linux.md). It holds nothing but the agent page (agent_stub.S) at
// kAgentPage: no code, stack, libc, vdso or heap of its own anywhere in the
// trace's address range. vmsim drives it with ptrace: every system call is
// the agent's `syscall` gadget with the registers vmsim sets, every access a
// real load or store by the agent's gadgets, and a fault is the SIGSEGV or
// SIGBUS the kernel raises, which vmsim takes at the signal-delivery stop and
// never lets through. The process is stopped whenever vmsim is not running
// one gadget, so /proc/PID/mem and /proc/PID/maps read a still state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace vmsim::linux_run {

// The agent's page: below the lowest address a trace can map (0x10000), so
// no trace mapping ever meets it. Calls whose ranges reach it are handled in
// linux_run.cpp so that the page is never touched (docs/linux.md).
inline constexpr uint64_t kAgentPage = 0x8000;
inline constexpr uint64_t kAgentEnd = kAgentPage + 0x1000;
inline constexpr uint64_t kUserTop = 0x7ffffffff000;  // Linux TASK_SIZE on x86-64
inline constexpr uint64_t kInitialBreak = 0x10000000;

// What a gadget ended with.
struct GadgetResult {
  bool faulted = false;  // SIGSEGV or SIGBUS instead of the int3
  int signal = 0;        // SIGSEGV or SIGBUS
  uint64_t rax = 0;      // the syscall's return value or the loaded value
  uint64_t rdi = 0;      // the access's address (at the fault: the faulting one)
  uint64_t rcx = 0;      // touch: steps left, the faulting one included
};

class Tracee {
 public:
  // A new process with an empty address space (but the agent page) and its
  // break at kInitialBreak; nullopt and `error` when that fails.
  static std::optional<Tracee> spawn(std::string* error);

  Tracee(Tracee&& other) noexcept;
  Tracee& operator=(Tracee&& other) noexcept;
  Tracee(const Tracee&) = delete;
  Tracee& operator=(const Tracee&) = delete;
  ~Tracee();  // kills the process

  pid_t pid() const { return pid_; }

  // A system call in the process: the raw return (-errno on failure).
  // Throws std::runtime_error when the process does not stop as it must.
  int64_t syscall(uint64_t nr, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0,
                  uint64_t a5 = 0, uint64_t a6 = 0);
  // A user-mode load or store of 1, 2, 4 or 8 bytes.
  GadgetResult load(uint64_t addr, uint32_t size);
  GadgetResult store(uint64_t addr, uint32_t size, uint64_t value);
  // `steps` >= 1 one-byte accesses from addr, `stride` apart.
  GadgetResult touch(uint64_t addr, uint64_t steps, uint64_t stride, bool write, uint8_t value);
  // fork(2) in the process: the child, stopped and traced like this one.
  Tracee fork();
  // Writes through /proc/PID/mem (the kernel's forced write, as ptrace's).
  bool poke(uint64_t addr, const void* bytes, size_t n);
  // Reads through /proc/PID/mem; false when the kernel refuses.
  bool peek(uint64_t addr, void* bytes, size_t n) const;
  // Ends the process (exit) and waits for it.
  void kill();

 private:
  explicit Tracee(pid_t pid);
  GadgetResult run(const void* gadget, uint64_t rax, uint64_t rdi, uint64_t rsi, uint64_t rdx,
                   uint64_t r10, uint64_t r8, uint64_t r9, uint64_t rcx);
  void open_mem();

  pid_t pid_ = -1;
  int mem_fd_ = -1;
  uint64_t fork_child_ = 0;  // set by run() at a fork event
};

}  // namespace vmsim::linux_run
