#include "trace_replay.hpp"

#include <new>

#include "console.hpp"
#include "cpu.hpp"
#include "disk.hpp"
#include "kernel_va.hpp"
#include "kthread.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "port_platform.hpp"
#include "replay/replay.hpp"
#include "result_line.hpp"
#include "slab_protection.hpp"
#include "smp.hpp"
#include "swap_device.hpp"
#include "user.hpp"

namespace port {
namespace {

// A trace thread's kernel stack: the core's deepest path (a fault with a
// copy-on-write copy under the port's own frames) needs a few KiB.
constexpr size_t kThreadStack = 48 * 1024;

// The port as the replay engine's machine.
class KernelMachine final : public replay::Machine {
 public:
  KernelMachine(const image::ImageReader& img, PortPlatform& platform)
      : platform_(platform),
        threads_(boot_alloc_array<Thread>(img.count(image::kThreads))),
        device_pa_(boot_alloc_array<vm::u64>(img.count(image::kDevices) + 1)) {
    // A device's bytes are frames set aside here, above the kernel and so
    // outside the core's RAM [0, machine.memory): the trace's `phys` names
    // the device but is no address on this machine (docs/port.md). The
    // engine fills them at boot; nothing else ever allocates or frees them.
    for (vm::u64 i = 0; i < img.count(image::kDevices); ++i) {
      void* frames = boot_reserve(img.device(i).size, vm::kPageSize);
      device_pa_[i] = reinterpret_cast<uintptr_t>(frames) - kDirectMap;
    }
  }

  void attach(replay::Replay& replay) {
    for (size_t i = 0; i < replay.thread_count(); ++i) {
      threads_[i].replay = &replay;
      threads_[i].index = i;
      threads_[i].cpu = replay.thread(i).spec->cpu;
    }
  }

  // replay::Machine
  void resume(size_t thread) override;
  void suspend(size_t thread) override { kthread_suspend(&threads_[thread].context); }
  void begin_access(size_t thread, const replay::UserAccess& access) override {
    threads_[thread].access = access;
    threads_[thread].done = 0;
  }
  replay::AccessStop run_access(size_t thread, unsigned cpu, vm::AddressSpace& as) override;
  void* allocate(size_t bytes) override { return boot_alloc(bytes, 64); }
  vm::u64 device_phys(vm::u32 device) override { return device_pa_[device]; }
  vm::u64 tlb_page_invalidations() const override { return platform_.tlb_page_invalidations(); }
  vm::u64 tlb_full_flushes() const override { return platform_.tlb_full_flushes(); }
  void first_op() override {
    Line m;
    m << "first-op " << rdtsc();
    info(m.c_str());
  }

 private:
  struct Thread {
    replay::Replay* replay = nullptr;
    size_t index = 0;
    unsigned cpu = 0;
    KThread context;            // its stack is allocated when it first runs
    KJmpBuf panic_jmp;          // a core panic on this thread comes back here
    replay::UserAccess access;  // the access in flight
    vm::u64 done = 0;           // ... steps of it completed
  };

  static void resume_on_cpu(void* arg);
  static void entry(void* arg);

  PortPlatform& platform_;
  Thread* threads_;
  vm::u64* device_pa_;  // [device]: the physical address of its frames
};

void KernelMachine::resume(size_t thread) {
  Thread& t = threads_[thread];
  if (!t.context.started) {
    kthread_init(&t.context, kernel_stack_alloc(kThreadStack), kThreadStack, &KernelMachine::entry,
                 &t);
  }
  run_on(PortPlatform::physical_cpu(t.cpu), &KernelMachine::resume_on_cpu, &t);
}

// On the thread's CPU: it runs as that CPU's trace cpu and thread, with its
// own way back from a core panic, until it suspends.
void KernelMachine::resume_on_cpu(void* arg) {
  Thread& t = *static_cast<Thread*>(arg);
  PerCpu* pc = percpu();
  pc->logical = t.cpu;
  pc->thread = static_cast<unsigned>(t.index);
  KJmpBuf* const outer = pc->panic_jmp;  // the BSP's run-level target, if this is the BSP
  pc->panic_jmp = t.context.started ? &t.panic_jmp : nullptr;  // entry() arms it first
  kthread_resume(&t.context);
  pc->panic_jmp = outer;
}

void KernelMachine::entry(void* arg) {
  Thread& t = *static_cast<Thread*>(arg);
  if (kjmp_set(&t.panic_jmp) != 0) {
    t.replay->thread_panicked(t.index, percpu()->panic_message);
  } else {
    percpu()->panic_jmp = &t.panic_jmp;
    t.replay->thread_main(t.index);
  }
  kthread_exit(&t.context);
}

// The access's steps in ring 3 on the process's page tables, one excursion
// each, until one faults or all are done.
replay::AccessStop KernelMachine::run_access(size_t thread, unsigned cpu, vm::AddressSpace& as) {
  Thread& t = threads_[thread];
  const replay::UserAccess& a = t.access;
  PerCpu* pc = percpu();
  // The TLB may hold this root's translations only for the logical CPU that
  // loaded it; another logical CPU on this physical one starts clean.
  if (read_cr3() != as.pmap.root() || pc->loaded_logical != static_cast<int>(cpu)) {
    write_cr3(as.pmap.root());
    pc->loaded_logical = static_cast<int>(cpu);
  }
  replay::AccessStop s;
  for (; t.done < a.count; ++t.done) {
    const vm::u64 addr = a.addr + t.done * a.stride;
    if (user_stub_range(addr, a.size)) {
      s.kind = replay::AccessStop::Kind::kPageFault;
      s.fault_addr = addr;
      s.fault_write = a.store();
      s.reserved = true;
      return s;
    }
    const Stop stop = user_access_once(a.store(), addr, a.size, a.value);
    if (stop.kind == StopKind::kDone) {
      s.value = stop.value;
      continue;
    }
    s.kind = stop.kind == StopKind::kPageFault ? replay::AccessStop::Kind::kPageFault
                                               : replay::AccessStop::Kind::kGeneralProtection;
    s.fault_addr = stop.fault_addr;
    s.fault_write = stop.fault_write;
    return s;
  }
  s.kind = replay::AccessStop::Kind::kDone;
  return s;
}

// One replay: the core, the engine over this machine, the result line.
class TraceReplay {
 public:
  explicit TraceReplay(const image::ImageReader& img)
      : platform_(disk_, swap_, img.header().machine.cpus),
        kernel_(new (boot_alloc(sizeof(vm::Kernel), 64)) vm::Kernel(platform_)),
        machine_(img, platform_),
        result_(img),
        replay_(img, *kernel_, machine_, result_, options()) {
    if (slab_protection_prepared()) slab_protection_attach(kernel_->vm.slab_sanity);
    disk_.init(img);
    swap_.init(img.header().machine.swap >> vm::kPageShift);
    machine_.attach(replay_);
  }

  ExitCode run();

 private:
  // `vmsim port-run --sanity` prepared the direct map (main.cpp).
  static replay::Options options() {
    replay::Options o;
    o.slab_sanity = slab_protection_prepared();
    return o;
  }

  Disk disk_;
  SwapDevice swap_;
  PortPlatform platform_;
  vm::Kernel* kernel_;
  KernelMachine machine_;
  ResultLine result_;
  replay::Replay replay_;
};

ExitCode TraceReplay::run() {
  PerCpu* pc = percpu();
  pc->logical = 0;
  pc->thread = 0;
  KJmpBuf jb;
  // A core panic in the scheduler loop's own work (boot, the final checks)
  // comes back here; one on a trace thread comes back to its entry().
  if (kjmp_set(&jb) != 0) {
    replay_.panicked(pc->panic_message);
  } else {
    pc->panic_jmp = &jb;
    if (replay_.boot()) {
      platform_.set_threads(&replay_);
      replay_.run_threads();
      platform_.set_threads(nullptr);
      pc->logical = 0;
      replay_.finish();
    }
    pc->panic_jmp = nullptr;
  }
  platform_.set_threads(nullptr);
  // The kernel's own address space (every thread's stack came from it).
  if (const char* broken = kernel_va_check()) {
    Line l;
    l << "kernel_va: " << broken;
    kpanic(l.c_str());
  }
  replay_.conclude();
  result_.print(replay_);
  return replay_.pass() && replay_.expectations_met() ? ExitCode::kPass : ExitCode::kViolation;
}

}  // namespace

ExitCode replay_trace(const image::ImageReader& image) {
  auto* run = new (boot_alloc(sizeof(TraceReplay), 64)) TraceReplay(image);
  return run->run();
}

}  // namespace port
