#include "linux/tracee.hpp"

#include <fcntl.h>
#include <linux/prctl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern "C" {
extern const unsigned char vmsim_agent_begin[], vmsim_agent_end[];
extern const unsigned char vmsim_agent_trap[], vmsim_agent_syscall[];
extern const unsigned char vmsim_agent_load1[], vmsim_agent_load2[], vmsim_agent_load4[],
    vmsim_agent_load8[];
extern const unsigned char vmsim_agent_store1[], vmsim_agent_store2[], vmsim_agent_store4[],
    vmsim_agent_store8[];
extern const unsigned char vmsim_agent_touch_read[], vmsim_agent_touch_write[];
}

namespace vmsim::linux_run {
namespace {

uint64_t agent_address(const void* gadget) {
  return kAgentPage +
         static_cast<uint64_t>(static_cast<const unsigned char*>(gadget) - vmsim_agent_begin);
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// The child's side of spawn(): becomes an empty traced process. Only
// async-signal-safe calls: it is a fork of vmsim.
[[noreturn]] void become_agent() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The kernel writes two things of glibc's into user memory on its own:
  // the rseq area (at every return to user mode) and signal frames. Both
  // would land in memory about to be unmapped (a SIGSEGV from nowhere), so
  // rseq is unregistered and every handler reset; signals are never
  // delivered anyway (vmsim takes them at their ptrace stop).
  if (__rseq_size > 0) {
    char* area = static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset;
    if (::syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0)
      ::syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
  }
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  setpgid(0, 0);  // vmsim's terminal signals are not the trace's
  personality(ADDR_NO_RANDOMIZE);
  // The spec's initial break (and the brk floor Linux checks) for this mm.
  struct prctl_mm_map map;
  std::memset(&map, 0, sizeof map);
  // The other fields are bookkeeping (/proc/PID/stat); they must lie above
  // vm.mmap_min_addr, so they sit just below the break, not at the agent.
  map.start_code = kInitialBreak - 0x1000;
  map.end_code = kInitialBreak;
  map.start_data = map.end_data = kInitialBreak;
  map.start_brk = map.brk = kInitialBreak;
  map.start_stack = map.arg_start = map.arg_end = map.env_start = map.env_end = kInitialBreak;
  map.exe_fd = static_cast<uint32_t>(-1);
  if (prctl(PR_SET_MM, PR_SET_MM_MAP, &map, sizeof map, 0) != 0) _exit(10);
  void* page =
      mmap(reinterpret_cast<void*>(kAgentPage), kAgentEnd - kAgentPage, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (page != reinterpret_cast<void*>(kAgentPage)) _exit(11);
  std::memcpy(page, vmsim_agent_begin, vmsim_agent_end - vmsim_agent_begin);
  if (mprotect(page, kAgentEnd - kAgentPage, PROT_READ | PROT_EXEC) != 0) _exit(12);
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(13);
  reinterpret_cast<void (*)()>(agent_address(vmsim_agent_trap))();  // stops at its int3
  _exit(14);
}

const char* spawn_step(int code) {
  switch (code) {
    case 10:
      return "prctl(PR_SET_MM_MAP) to set the break failed (needs CAP_SYS_RESOURCE)";
    case 11:
      return "mapping the agent page at 0x8000 failed (needs CAP_SYS_RAWIO below "
             "vm.mmap_min_addr)";
    case 12:
      return "mprotect of the agent page failed";
    case 13:
      return "ptrace(PTRACE_TRACEME) failed";
  }
  return "the agent process ended early";
}

}  // namespace

Tracee::Tracee(pid_t pid) : pid_(pid) {}

Tracee::Tracee(Tracee&& other) noexcept
    : pid_(other.pid_), mem_fd_(other.mem_fd_), fork_child_(other.fork_child_) {
  other.pid_ = -1;
  other.mem_fd_ = -1;
}

Tracee& Tracee::operator=(Tracee&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = other.pid_;
    mem_fd_ = other.mem_fd_;
    fork_child_ = other.fork_child_;
    other.pid_ = -1;
    other.mem_fd_ = -1;
  }
  return *this;
}

Tracee::~Tracee() {
  kill();
}

std::optional<Tracee> Tracee::spawn(std::string* error) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (pid == 0) become_agent();
  int status = 0;
  if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
    *error = WIFEXITED(status) ? spawn_step(WEXITSTATUS(status))
                               : "the agent process did not stop at its first trap";
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, __WALL);
    return std::nullopt;
  }
  Tracee t(pid);
  if (ptrace(PTRACE_SETOPTIONS, pid, nullptr,
             reinterpret_cast<void*>(PTRACE_O_TRACEFORK | PTRACE_O_EXITKILL)) != 0) {
    *error = std::string("ptrace(PTRACE_SETOPTIONS): ") + std::strerror(errno);
    return std::nullopt;
  }
  try {
    t.open_mem();
    // Everything vmsim's fork brought along goes (code, heap, stack, libc,
    // vdso): only the agent page stays.
    if (t.syscall(SYS_munmap, 0, kAgentPage) != 0 ||
        t.syscall(SYS_munmap, kAgentEnd, kUserTop - kAgentEnd) != 0) {
      *error = "unmapping vmsim's own mappings in the agent process failed";
      return std::nullopt;
    }
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
  return t;
}

void Tracee::open_mem() {
  const std::string path = "/proc/" + std::to_string(pid_) + "/mem";
  mem_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (mem_fd_ < 0) fail("open " + path);
}

GadgetResult Tracee::run(const void* gadget, uint64_t rax, uint64_t rdi, uint64_t rsi, uint64_t rdx,
                         uint64_t r10, uint64_t r8, uint64_t r9, uint64_t rcx) {
  user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, pid_, nullptr, &regs) != 0) fail("ptrace(PTRACE_GETREGS)");
  regs.rip = agent_address(gadget);
  regs.orig_rax = ~0ull;  // not inside a system call: nothing to restart
  regs.rax = rax;
  regs.rdi = rdi;
  regs.rsi = rsi;
  regs.rdx = rdx;
  regs.r10 = r10;
  regs.r8 = r8;
  regs.r9 = r9;
  regs.rcx = rcx;
  if (ptrace(PTRACE_SETREGS, pid_, nullptr, &regs) != 0) fail("ptrace(PTRACE_SETREGS)");
  // Signal 0: a fault left pending by the previous gadget is dropped here.
  if (ptrace(PTRACE_CONT, pid_, nullptr, nullptr) != 0) fail("ptrace(PTRACE_CONT)");
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, __WALL) != pid_) fail("waitpid");
    if (!WIFSTOPPED(status)) {
      throw std::runtime_error("the agent process " + std::to_string(pid_) + " ended unexpectedly");
    }
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (sig == SIGTRAP && event == PTRACE_EVENT_FORK) {
      unsigned long child = 0;
      if (ptrace(PTRACE_GETEVENTMSG, pid_, nullptr, &child) != 0) fail("PTRACE_GETEVENTMSG");
      fork_child_ = child;
      if (ptrace(PTRACE_CONT, pid_, nullptr, nullptr) != 0) fail("ptrace(PTRACE_CONT)");
      continue;
    }
    if (sig == SIGTRAP || sig == SIGSEGV || sig == SIGBUS) {
      if (ptrace(PTRACE_GETREGS, pid_, nullptr, &regs) != 0) fail("ptrace(PTRACE_GETREGS)");
      GadgetResult r;
      r.faulted = sig != SIGTRAP;
      r.signal = r.faulted ? sig : 0;
      r.rax = regs.rax;
      r.rdi = regs.rdi;
      r.rcx = regs.rcx;
      return r;
    }
    // Anything else (SIGCHLD from a child that exited, a stop) is not the
    // trace's: suppressed, and the gadget goes on.
    if (ptrace(PTRACE_CONT, pid_, nullptr, nullptr) != 0) fail("ptrace(PTRACE_CONT)");
  }
}

int64_t Tracee::syscall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                        uint64_t a5, uint64_t a6) {
  const GadgetResult r = run(vmsim_agent_syscall, nr, a1, a2, a3, a4, a5, a6, 0);
  if (r.faulted) {
    throw std::runtime_error("the agent's syscall gadget took signal " + std::to_string(r.signal) +
                             " (system call " + std::to_string(nr) + ")");
  }
  return static_cast<int64_t>(r.rax);
}

GadgetResult Tracee::load(uint64_t addr, uint32_t size) {
  const void* g = size == 1   ? vmsim_agent_load1
                  : size == 2 ? vmsim_agent_load2
                  : size == 4 ? vmsim_agent_load4
                              : vmsim_agent_load8;
  return run(g, 0, addr, 0, 0, 0, 0, 0, 0);
}

GadgetResult Tracee::store(uint64_t addr, uint32_t size, uint64_t value) {
  const void* g = size == 1   ? vmsim_agent_store1
                  : size == 2 ? vmsim_agent_store2
                  : size == 4 ? vmsim_agent_store4
                              : vmsim_agent_store8;
  return run(g, 0, addr, value, 0, 0, 0, 0, 0);
}

GadgetResult Tracee::touch(uint64_t addr, uint64_t steps, uint64_t stride, bool write,
                           uint8_t value) {
  return run(write ? vmsim_agent_touch_write : vmsim_agent_touch_read, 0, addr, value, stride, 0, 0,
             0, steps);
}

Tracee Tracee::fork() {
  fork_child_ = 0;
  const int64_t r = syscall(SYS_fork);
  if (r <= 0 || fork_child_ == 0) {
    errno = r < 0 ? static_cast<int>(-r) : 0;
    fail("fork in the agent process");
  }
  Tracee child(static_cast<pid_t>(fork_child_));
  int status = 0;
  // A traced fork child starts with a SIGSTOP stop (PTRACE_O_TRACEFORK).
  if (waitpid(child.pid_, &status, __WALL) != child.pid_ || !WIFSTOPPED(status))
    fail("waiting for the forked agent process");
  child.open_mem();
  return child;
}

bool Tracee::poke(uint64_t addr, const void* bytes, size_t n) {
  return pwrite(mem_fd_, bytes, n, static_cast<off_t>(addr)) == static_cast<ssize_t>(n);
}

bool Tracee::peek(uint64_t addr, void* bytes, size_t n) const {
  return pread(mem_fd_, bytes, n, static_cast<off_t>(addr)) == static_cast<ssize_t>(n);
}

void Tracee::kill() {
  if (mem_fd_ >= 0) ::close(mem_fd_);
  mem_fd_ = -1;
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, __WALL) == pid_ && !WIFEXITED(status) && !WIFSIGNALED(status)) {
  }
  pid_ = -1;
}

}  // namespace vmsim::linux_run
