#include "stress_mode.hpp"

#include "kernel_va.hpp"

#include <new>

#include "apic.hpp"
#include "cpu.hpp"
#include "idt.hpp"
#include "json_out.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "smp.hpp"
#include "stress_run.hpp"
#include "swap_device.hpp"
#include "sys/audit.hpp"
#include "sys/state_digest.hpp"

namespace port {
namespace {

// The core's RAM in stress mode: room for the regions, their copies and
// page tables, well below the kernel at 160 MiB.
constexpr uint64_t kStressRam = 64ull << 20;
constexpr uint64_t kStressReserved = 16;
// Swap for pageout-vs-write: a slot for every page of the largest region
// (stress_config.cpp), twice over for slots not yet freed.
constexpr uint64_t kStressSwapSlots = 2 * 4096;

struct Worker {
  StressRun* run;
  const StressWorkloadOps* ops;
};

// Runs on every CPU at once, with interrupts on (shootdowns are answered
// while waiting for locks). A core panic or an abandoned spin comes back here.
void worker_main(void* arg) {
  const Worker* w = static_cast<const Worker*>(arg);
  PerCpu* pc = percpu();
  pc->logical = pc->index;
  pc->thread = pc->index;
  irq_enable();
  KJmpBuf jb;
  const int why = kjmp_set(&jb);
  if (why == 0) {
    pc->panic_jmp = &jb;
    w->ops->worker(*w->run, pc->index);
  } else if (why != kStressAbandoned) {
    StressRun::Message m;
    m << "core panic on CPU " << pc->index << ": " << pc->panic_message;
    w->run->violation("panic", m);
    w->run->platform.abort_all();
  }
  pc->panic_jmp = nullptr;
  write_cr3(kernel_root_phys());  // no CPU keeps a root that may be freed next
  irq_disable();
}

// Posts `fn` to every AP without waiting (smp.cpp's run_on waits), runs it
// here too, then waits for all with interrupts on.
void run_everywhere(unsigned cpus, void (*fn)(void*), void* arg) {
  for (unsigned c = 1; c < cpus; ++c) {
    Mailbox& m = port::cpus[c].mailbox;
    m.fn = fn;
    m.arg = arg;
    m.done = 0;
    __atomic_store_n(&m.posted, 1, __ATOMIC_RELEASE);
    lapic_send_ipi(port::cpus[c].apic_id, kVecWake);
  }
  fn(arg);
  irq_enable();
  for (unsigned c = 1; c < cpus; ++c)
    while (__atomic_load_n(&port::cpus[c].mailbox.done, __ATOMIC_ACQUIRE) == 0) cpu_relax();
}

void leak_check(StressRun& run) {
  vm::Kernel& k = run.kernel;
  k.destroy_all();
  uint64_t held = 0;
  for (uint64_t pfn = 0; pfn < k.vm.pages.described_frames(); ++pfn) {
    const vm::Page::State s = k.vm.pages.page_at(pfn)->state;
    if (s == vm::Page::State::kObject || s == vm::Page::State::kPageTable) ++held;
  }
  const uint64_t objects = k.vm.objects.stats().in_use + k.vm.regions.stats().in_use +
                           k.vm.spaces.stats().in_use + k.process_slab.stats().in_use +
                           k.vnode_slab.stats().in_use;
  if (held == 0 && objects == 0) return;
  StressRun::Message m;
  m << held << " frames and " << objects << " kernel objects still held after every process exited";
  run.violation("leak", m);
}

void print_json(const StressRun& run, const char* digest) {
  const StressCounters& c = run.counters;
  const vm::Vm& vm = run.kernel.vm;
  const struct {
    const char* name;
    uint64_t value;
  } stats[] = {
      {"cpus", run.cpus},
      {"iterations", c.iterations},
      {"reads", c.reads},
      {"reads_zero", c.reads_zero},
      {"writes", c.writes},
      {"signals_segv", c.signals_segv},
      {"forks", c.forks},
      {"snapshot_checks", c.snapshot_checks},
      {"paged_out", c.paged_out},
      {"swap_outs", vm.stats.swap_outs.load()},
      {"page_ins", vm.stats.page_ins.load()},
      {"faults", vm.stats.faults.load()},
      {"cow_copies", vm.stats.cow_copies.load()},
      {"tlb_page_invalidations", run.platform.page_invalidations()},
      {"tlb_full_flushes", run.platform.full_flushes()},
      {"shootdown_ipis", run.platform.shootdown_ipis()},
      {"lock_contended", run.platform.lock_contended()},
      {"frames_peak", vm.pages.stats().peak_in_use},
  };
  JsonOut j(1 << 16);
  Line name;
  name << "stress:" << run.config.name;
  j.raw("{\"trace\":").str(name.c_str());
  j.raw(",\"result\":").str(run.violation_count() == 0 ? "pass" : "violation");
  j.raw(",\"violations\":[");
  for (unsigned i = 0; i < run.violation_count(); ++i) {
    if (i != 0) j.raw(",");
    j.raw("{\"kind\":").str(run.violation_kind(i));
    j.raw(",\"message\":").str(run.violation_message(i));
    j.raw(",\"thread\":null,\"op\":null,\"step\":null}");
  }
  j.raw("],\"stats\":{");
  for (size_t i = 0; i < sizeof stats / sizeof stats[0]; ++i) {
    if (i != 0) j.raw(",");
    j.str(stats[i].name).raw(":").num(stats[i].value);
  }
  j.raw("},\"digest\":");
  if (digest != nullptr) {
    j.str(digest);
  } else {
    j.raw("null");
  }
  j.raw(",\"schedule\":[]}");
  j.emit();
}

}  // namespace

ExitCode run_stress(const StressConfig& config) {
  if (config.workload == StressWorkload::kStackOverflow) overflow_kernel_stack();
  check_core_ram(kStressRam);
  const unsigned cpus = smp_start(kMaxPhysCpus);
  auto* platform = new (boot_alloc(sizeof(StressPlatform), 64)) StressPlatform();
  auto* kernel = new (boot_alloc(sizeof(vm::Kernel), 64)) vm::Kernel(*platform);
  if (config.no_shootdown) platform->skip_remote_shootdowns();
  StressRun run(config, *kernel, *platform, cpus);
  const StressWorkloadOps& ops = config.workload == StressWorkload::kForkCow ? fork_cow_workload()
                                 : config.workload == StressWorkload::kPageoutVsWrite
                                     ? pageout_vs_write_workload()
                                     : munmap_vs_access_workload();
  uint64_t swap_slots = 0;
  if (config.workload == StressWorkload::kPageoutVsWrite) {
    swap_slots = kStressSwapSlots;
    auto* swap = new (boot_alloc(sizeof(SwapDevice), 64)) SwapDevice();
    swap->init(swap_slots);
    platform->set_swap(swap);
  }
  Line l;
  l << "stress " << config.name << ": " << cpus << " cpus, " << config.iterations << " iterations, "
    << config.pages << " pages" << (config.no_shootdown ? ", bug no-shootdown" : "");
  info(l.c_str());

  PerCpu* pc = percpu();
  pc->logical = pc->thread = 0;
  char digest[65] = {};
  volatile bool has_digest = false;  // set after kjmp_set: kept in memory
  KJmpBuf jb;
  if (kjmp_set(&jb) != 0) {
    StressRun::Message m;
    m << "core panic: " << pc->panic_message;
    run.violation("panic", m);
  } else {
    pc->panic_jmp = &jb;
    if (kernel->boot(kStressRam, kStressReserved, swap_slots) != vm::Status::kOk || !ops.setup(run))
      kpanic("stress: the core cannot boot or set up the workload");
    pc->panic_jmp = nullptr;
    l.clear();
    l << "first-op " << rdtsc();
    info(l.c_str());
    Worker w{&run, &ops};
    run_everywhere(cpus, worker_main, &w);
    l.clear();
    l << "stress-end " << rdtsc();
    info(l.c_str());
    pc->panic_jmp = &jb;
    if (run.violation_count() == 0) ops.check(run);
    if (run.violation_count() == 0) {
      vm::AuditMessage why;
      if (!vm::audit(*kernel, why)) run.violation("invariant", StressRun::Message(why.c_str()));
    }
    if (run.violation_count() == 0) {
      vm::state_digest(*kernel, digest);
      has_digest = true;
      leak_check(run);
    }
    pc->panic_jmp = nullptr;
  }
  print_json(run, has_digest ? digest : nullptr);
  return run.violation_count() == 0 ? ExitCode::kPass : ExitCode::kViolation;
}

}  // namespace port
