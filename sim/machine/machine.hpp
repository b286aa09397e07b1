// The simulated machine: physical RAM shared by one Unicorn x86-64 engine per
// simulated CPU. Each engine walks real 4-level page tables (CR3), keeps its
// own TLB, and runs user accesses as guest instructions at CPL 3; a #PF stops
// the engine and comes back to the caller, which runs the core's fault handler
// outside emulation and resumes the access.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vmsim {

// One user-mode access as the trace asks for it.
enum class UserAccessKind : uint8_t {
  kLoad,        // one load of `size` bytes at `addr`; value returned
  kStore,       // one store of `size` bytes of `value` at `addr`
  kTouchLoad,   // `count` 1-byte loads at addr, addr+stride, ...
  kTouchStore,  // `count` 1-byte stores of (uint8_t)value at addr, addr+stride, ...
};

struct UserAccess {
  UserAccessKind kind = UserAccessKind::kLoad;
  uint64_t addr = 0;
  uint32_t size = 1;  // 1, 2, 4, 8 (loads and stores)
  uint64_t value = 0;
  uint64_t stride = 4096;
  uint64_t count = 0;
};

// The user register state of an access in flight. It belongs to the
// simulated thread, not to the CPU, so an access stopped by a fault can be
// resumed later (after the thread was descheduled).
struct UserContext {
  uint64_t rip = 0;
  uint64_t rax = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0;
  uint64_t r8 = 0, r9 = 0;  // a batch: the next descriptor, how many are left
};

// One access of a batch (Machine::batch), as the batch stub reads it from
// guest memory: 16 bytes, within one page.
struct BatchAccess {
  static constexpr uint8_t kLoad = 1;   // reads [addr] (one byte: what the MMU sees)
  static constexpr uint8_t kStore = 2;  // writes `value` to [addr, addr + len)
  uint64_t addr = 0;
  uint32_t len = 1;
  uint8_t what = kLoad;  // kLoad, kStore or both (a load, then a store)
  uint8_t value = 0;
  uint16_t unused = 0;
};
static_assert(sizeof(BatchAccess) == 16);

enum class StopKind : uint8_t {
  kDone,               // the access completed; a load's value is in `value`
  kPageFault,          // #PF at `fault_addr`; resume with run() after handling
  kGeneralProtection,  // #GP (e.g. a non-canonical address)
};

struct Stop {
  StopKind kind = StopKind::kDone;
  uint64_t fault_addr = 0;
  bool fault_write = false;  // the faulting access was a store
  uint64_t value = 0;
};

// Physical address space that is not RAM: a trace's device (spec §10).
struct DeviceRange {
  uint64_t phys = 0;   // page aligned, at or above the RAM's end
  uint64_t bytes = 0;  // page multiple, > 0
  bool operator==(const DeviceRange&) const = default;
};

// How a Machine is built. The defaults are what the simulator uses.
struct MachineOptions {
  // Device ranges: host memory at phys_base() + phys, mapped in every
  // engine at `phys`, disjoint from RAM and each other. The firmware area
  // moves up past any of them that would overlap it.
  std::vector<DeviceRange> devices;
  // Give the stub page protection key 1 and deny CPL-3 data access to
  // that key (CR4.PKE, PKRU.AD; needs a CPU model with PKU): the stubs stay
  // executable, a user load or store to them faults. Falls back to plain
  // read+execute if the engine refuses PKU (see stubs_execute_only()).
  bool execute_only_stubs = true;
  // Translated-code buffer per engine. Unicorn's default reserves 1 GiB
  // per engine; the stubs need a few KiB and are translated once (a test
  // holds this), and at 1 MiB (Unicorn's minimum) an engine stays under
  // 1 MiB resident, where 4 MiB and up cost ~3 MiB (the buffer gets a
  // transparent huge page).
  uint32_t tcg_buffer_bytes = 1u << 20;
};

// Not thread-safe: one host thread drives every simulated CPU.
class Machine {
 public:
  // `ram_bytes` of physical RAM at physical address 0, page multiple.
  Machine(uint64_t ram_bytes, uint32_t cpus, MachineOptions options = {});
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Host view of physical memory. Physical address pa is at phys_base() + pa
  // for RAM, the devices and the simulator's own firmware area after RAM.
  uint8_t* phys_base();
  uint64_t ram_bytes() const;
  uint64_t phys_bytes() const;  // the whole host buffer (holes included)
  const std::vector<DeviceRange>& devices() const;
  uint32_t cpus() const;

  // PML4 (physical address) whose kernel half (entries 256..511) every
  // address space copies: it maps the simulator's user-mode access stubs.
  uint64_t kernel_root() const;

  // True if [addr, addr+len) touches addresses the simulator reserves for
  // its stubs; such accesses must be treated as faults without running them.
  bool reserved_range(uint64_t addr, uint64_t len) const;
  // True if any byte `access` would touch is reserved (follows the stride
  // of touch accesses, so a loop that steps over the stub page is fine).
  // The reserved range is the stub page at 0xffffffffff600000.
  bool reserved_access(const UserAccess& access) const;
  // True if the stub page is execute-only for CPL 3 (protection keys took):
  // an access that slips past reserved_range() faults instead of reading
  // the stubs, as a kPageFault whose fault_addr is reserved.
  bool stubs_execute_only() const;

  // Sets up `ctx` to perform `access` from its start. Throws
  // std::invalid_argument for a load/store size other than 1, 2, 4, 8.
  UserContext prepare(const UserAccess& access) const;

  // Many accesses in one run: the caller fills batch()[0..count) and runs
  // the context prepare_batch(count) returns; a fault stops it on the
  // access that faulted, and run() resumes it there. The descriptors live
  // in guest memory the stub reads at CPL 3 (reserved, like the stubs), one
  // area for the whole machine: one batch in flight at a time.
  BatchAccess* batch();
  static constexpr size_t kBatchCapacity = 2048;
  // Throws std::invalid_argument for a count over kBatchCapacity.
  UserContext prepare_batch(size_t count) const;

  // Runs `ctx` on `cpu` with CR3 = `root` until the access completes or
  // faults. After a kPageFault the context is positioned to retry the
  // faulting instruction. The CPU's TLB is flushed only when `root`
  // differs from the root it ran last. A kGeneralProtection reports the
  // address the faulting instruction used (rdi) as fault_addr. Throws
  // std::invalid_argument for a bad cpu, root or context, and
  // std::runtime_error when the emulator does something unexpected (an
  // exception other than #PF/#GP, a stop without any trap).
  Stop run(uint32_t cpu, uint64_t root, UserContext& ctx);

  // Back to the state of a new machine, keeping its engines (creating one
  // is most of a short run's cost): RAM reads zero again (the host pages
  // a short run touched are cleared and kept, a long run's given back),
  // the firmware is rebuilt, every TLB is flushed. The
  // explorer's runs reuse machines this way (MachinePool).
  void reset();

  // TLB maintenance on one CPU's engine. invalidate_page is exact (INVLPG
  // run at CPL 0); invalidate_all drops every translation. Both are no-ops
  // on a CPU that has not run yet (it caches nothing).
  void invalidate_page(uint32_t cpu, uint64_t va);
  void invalidate_all(uint32_t cpu);

  // Counters for stats and benchmarks.
  // uc_emu_start calls: user runs, INVLPGs, and one per engine creation.
  uint64_t emulator_entries() const;
  uint32_t engines_created() const;  // engines are created on a CPU's first use

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmsim
