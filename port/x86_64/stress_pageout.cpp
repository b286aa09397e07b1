// Workload pageout-vs-write: CPU 0 runs pageout (vm_pageout) round after
// round over one anonymous region while every other CPU keeps storing to
// and loading from its pages, each CPU in its own 8-byte slot of every page.
// The writers work in one half of the region a round, the halves taking
// turns: pageout finds the other half cold and takes it (a hot page keeps
// its second chance, as CLOCK means), and the next round writes it back in
// from swap while pageout scans, clears accessed bits and shoots down TLBs
// of the half being written.
// Pageout clears PTEs under the pmap lock, shoots TLBs down and writes the
// pages to swap while the writers fault them back in: a store must never be
// lost (a load of the CPU's own slot returns exactly what it stored last,
// and at the end every slot holds its CPU's last value), and nobody else's
// slot may change.
#include "cpu.hpp"
#include "percpu.hpp"
#include "stress_run.hpp"
#include "vm/pageout.hpp"
#include "vm/vm_map.hpp"

namespace port {
namespace {

constexpr uint64_t kBase = 0x20000000;
constexpr uint64_t kTagMagic = 0x57ull << 56;

struct Shared {
  vm::Process* process = nullptr;
  uint64_t* last = nullptr;  // [cpu * pages + page]: the count last stored there
  uint64_t round = 0;        // the writers work in half round % 2
  uint32_t done = 0;
} shared;

uint64_t tag(unsigned cpu, uint64_t page, uint64_t count) {
  return kTagMagic | uint64_t{cpu} << 48 | page << 32 | (count & 0xffffffff);
}
uint64_t slot_va(unsigned cpu, uint64_t page) {
  return kBase + page * vm::kPageSize + cpu * 8;
}

bool setup(StressRun& run) {
  shared = Shared{};
  shared.last = new uint64_t[kMaxPhysCpus * run.config.pages]();
  shared.process = run.kernel.create_process("stress");
  if (shared.process == nullptr) return false;
  vm::MmapRequest req;
  req.has_addr = true;
  req.addr = kBase;
  req.len = run.config.pages * vm::kPageSize;
  req.prot = static_cast<vm::Prot>(vm::kProtRead | vm::kProtWrite);
  req.share = vm::Share::kPrivate;
  req.fixed = true;
  vm::vaddr_t at = 0;
  return vm::vm_mmap(run.kernel.vm, *shared.process->as, req, &at) == vm::Status::kOk;
}

uint64_t half_pages(const StressRun& run) {
  return run.config.pages > 1 ? run.config.pages / 2 : 1;
}

// A round: the writers store to a region's worth of slots in their half,
// pageout takes a half's worth of pages, and the writers change halves.
void driver(StressRun& run) {
  const uint64_t target = half_pages(run);
  for (uint64_t i = 0; i < run.config.iterations && !run.stopping(); ++i) {
    const uint64_t writes =
        __atomic_load_n(&run.counters.writes, __ATOMIC_RELAXED) + run.config.pages;
    while (run.cpus > 1 && __atomic_load_n(&run.counters.writes, __ATOMIC_RELAXED) < writes &&
           !run.stopping())
      cpu_relax();
    run.add(&run.counters.paged_out, vm::vm_pageout(run.kernel.vm, target));
    __atomic_store_n(&shared.round, i + 1, __ATOMIC_RELEASE);
    run.add(&run.counters.iterations);
  }
}

// One access to this CPU's slot of `page`; false (a violation reported)
// unless it completed.
bool access(StressRun& run, vm::AddressSpace& as, unsigned cpu, uint64_t page, bool store,
            uint64_t value, uint64_t* loaded) {
  const StressAccess a = stress_access(run, as, store, slot_va(cpu, page), value);
  if (a.done) {
    run.add(store ? &run.counters.writes : &run.counters.reads);
    *loaded = a.value;
    return true;
  }
  StressRun::Message m;
  m << "CPU " << cpu << ": the " << (store ? "store to" : "load of") << " page " << page
    << " failed";
  run.violation("unexpected-fault", m);
  return false;
}

// The slot must hold `want`: what this CPU stored there last (0: nothing).
bool expect(StressRun& run, unsigned cpu, uint64_t page, uint64_t got, uint64_t want,
            const char* when) {
  if (got == want) return true;
  StressRun::Message m;
  m << "CPU " << cpu << ": page " << page << " read " << vm::Hex{got} << " " << when
    << ", expected " << vm::Hex{want} << " (a store lost to pageout)";
  run.violation("lost-write", m);
  return false;
}

// Load (the value must have survived pageout and page-in), store the next
// value, load it back.
void writer(StressRun& run, vm::AddressSpace& as, unsigned cpu) {
  uint64_t* last = shared.last + cpu * run.config.pages;
  const uint64_t half = half_pages(run);
  for (uint64_t i = 0; !__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE) && !run.stopping(); ++i) {
    const uint64_t first = __atomic_load_n(&shared.round, __ATOMIC_ACQUIRE) % 2 * half;
    const uint64_t p = first + i % half < run.config.pages ? first + i % half : i % half;
    const uint64_t old = last[p] == 0 ? 0 : tag(cpu, p, last[p]);
    const uint64_t v = tag(cpu, p, last[p] + 1);
    uint64_t got = 0;
    if (!access(run, as, cpu, p, false, 0, &got) ||
        !expect(run, cpu, p, got, old, "before its next store"))
      return;
    if (!access(run, as, cpu, p, true, v, &got)) return;
    ++last[p];
    if (!access(run, as, cpu, p, false, 0, &got) ||
        !expect(run, cpu, p, got, v, "right after storing it"))
      return;
  }
}

void worker(StressRun& run, unsigned cpu) {
  vm::AddressSpace& as = *shared.process->as;
  stress_activate(run, as);
  if (cpu == 0) {
    driver(run);
    __atomic_store_n(&shared.done, 1, __ATOMIC_RELEASE);
  } else {
    writer(run, as, cpu);
  }
}

// Every slot holds its CPU's last value (0 where it never stored), the
// slots of no CPU hold 0, and pageout really moved pages.
void check(StressRun& run) {
  vm::AddressSpace& as = *shared.process->as;
  for (uint64_t p = 0; p < run.config.pages; ++p) {
    for (unsigned c = 0; c < kMaxPhysCpus && c * 8 < vm::kPageSize; ++c) {
      const uint64_t n = c < run.cpus ? shared.last[c * run.config.pages + p] : 0;
      const uint64_t want = n == 0 ? 0 : tag(c, p, n);
      const StressAccess a = stress_access(run, as, false, slot_va(c, p), 0);
      if (a.done && a.value == want) continue;
      StressRun::Message m;
      m << "final state: page " << p << " slot of CPU " << c << " holds " << vm::Hex{a.value}
        << ", expected " << vm::Hex{want};
      run.violation("state-mismatch", m);
      return;
    }
  }
  if (run.kernel.vm.stats.swap_outs.load() == 0 || run.kernel.vm.stats.page_ins.load() == 0) {
    StressRun::Message m;
    m << "pageout moved nothing: " << run.kernel.vm.stats.swap_outs.load() << " swap-outs, "
      << run.kernel.vm.stats.page_ins.load() << " page-ins";
    run.violation("no-pressure", m);
  }
}

}  // namespace

const StressWorkloadOps& pageout_vs_write_workload() {
  static const StressWorkloadOps ops{setup, worker, check};
  return ops;
}

}  // namespace port
