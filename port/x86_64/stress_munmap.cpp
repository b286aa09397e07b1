// Workload munmap-vs-access: CPU 0 maps a region, writes a tag into every
// page, and unmaps it, round after round (generation g), always at the same
// address; every other CPU keeps loading from its pages meanwhile. A load
// must complete with a value the region could hold while it ran, or end
// with SIGSEGV; a tag of an unmapped generation, of another page, or a zero
// where the current generation's tag was already written is a read through
// a stale translation (a frame freed, or reused, under a live TLB entry).
#include "cpu.hpp"
#include "percpu.hpp"
#include "stress_run.hpp"
#include "vm/vm_map.hpp"

namespace port {
namespace {

constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kTagMagic = 0x54ull << 56;
constexpr uint64_t kPageBits = 20;

struct Shared {
  vm::Process* process = nullptr;
  uint64_t current = 0;   // the generation being mapped or mapped now
  uint64_t unmapped = 0;  // every generation up to this one is unmapped
  uint64_t* written;      // per page: the last generation whose tag is written
  uint32_t done = 0;
} shared;

uint64_t tag(uint64_t gen, uint64_t page) {
  return kTagMagic | (gen << kPageBits) | page;
}
uint64_t page_va(uint64_t page) {
  return kBase + page * vm::kPageSize;
}
uint64_t load(const uint64_t* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
void store(uint64_t* p, uint64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

bool setup(StressRun& run) {
  shared = Shared{};
  shared.written = new uint64_t[run.config.pages]();
  shared.process = run.kernel.create_process("stress");
  return shared.process != nullptr;
}

void map_generation(StressRun& run, vm::AddressSpace& as, uint64_t g) {
  store(&shared.current, g);
  vm::MmapRequest req;
  req.has_addr = true;
  req.addr = kBase;
  req.len = run.config.pages * vm::kPageSize;
  req.prot = static_cast<vm::Prot>(vm::kProtRead | vm::kProtWrite);
  req.share = vm::Share::kPrivate;
  req.fixed = true;
  vm::vaddr_t at = 0;
  if (vm::vm_mmap(run.kernel.vm, as, req, &at) != vm::Status::kOk) {
    StressRun::Message m;
    m << "generation " << g << ": mmap failed";
    run.violation("state-mismatch", m);
  }
}

// Odd generations go in two munmaps (a clip, then the rest), even ones in one.
void unmap_generation(StressRun& run, vm::AddressSpace& as, uint64_t g) {
  const uint64_t pages = run.config.pages;
  const uint64_t half = (g & 1) && pages > 1 ? pages / 2 : 0;
  if (half != 0) vm::vm_munmap(run.kernel.vm, as, kBase, half * vm::kPageSize);
  vm::vm_munmap(run.kernel.vm, as, page_va(half), (pages - half) * vm::kPageSize);
  store(&shared.unmapped, g);
}

void driver(StressRun& run, vm::AddressSpace& as) {
  for (uint64_t g = 1; g <= run.config.iterations && !run.stopping(); ++g) {
    map_generation(run, as, g);
    for (uint64_t p = 0; p < run.config.pages && !run.stopping(); ++p) {
      const StressAccess a = stress_access(run, as, true, page_va(p), tag(g, p));
      if (!a.done) {
        StressRun::Message m;
        m << "generation " << g << ": the store of page " << p << " by its mapper failed";
        if (a.segv) run.violation("unexpected-fault", m);
        return;
      }
      store(&shared.written[p], g);
    }
    run.add(&run.counters.iterations);
    if (g != run.config.iterations) unmap_generation(run, as, g);
  }
}

void check_read(StressRun& run, uint64_t p, uint64_t v, uint64_t written, uint64_t lo,
                uint64_t hi) {
  StressRun::Message m;
  if (v == 0) {
    run.add(&run.counters.reads_zero);
    // Generation `written` had its tag before the load began, was still
    // mapped then (written > lo) and no later one had begun by its end.
    if (written > lo && hi == written) {
      m << "page " << p << " read 0, but generation " << written
        << " wrote its tag before the load and was mapped throughout it (stale translation)";
      run.violation("stale-read", m);
    }
    return;
  }
  const uint64_t g = (v & ~kTagMagic) >> kPageBits;
  const uint64_t page = v & ((1ull << kPageBits) - 1);
  if ((v & (0xffull << 56)) != kTagMagic || page != p) {
    m << "page " << p << " read " << vm::Hex{v} << ": not a tag of this page (a reused frame)";
    run.violation("stale-read", m);
  } else if (g <= lo || g > hi) {
    m << "page " << p << " read the tag of generation " << g << ", but generations up to " << lo
      << " were unmapped before the load and " << hi << " is the newest (a freed frame)";
    run.violation("stale-read", m);
  }
}

void reader(StressRun& run, vm::AddressSpace& as, unsigned cpu) {
  uint64_t p = cpu % run.config.pages;
  while (!__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE) && !run.stopping()) {
    // `written` before `unmapped`: the mapper publishes them the other way.
    const uint64_t written = load(&shared.written[p]);
    const uint64_t lo = load(&shared.unmapped);
    const StressAccess a = stress_access(run, as, false, page_va(p), 0);
    const uint64_t hi = load(&shared.current);
    if (a.done) check_read(run, p, a.value, written, lo, hi);
    if (!a.done && !a.segv) return;
    p = (p + 1) % run.config.pages;
  }
}

void worker(StressRun& run, unsigned cpu) {
  vm::AddressSpace& as = *shared.process->as;
  stress_activate(run, as);
  if (cpu == 0) {
    driver(run, as);
    __atomic_store_n(&shared.done, 1, __ATOMIC_RELEASE);
  } else {
    reader(run, as, cpu);
  }
}

// The region of the last generation stays: every page holds its tag.
void check(StressRun& run) {
  vm::AddressSpace& as = *shared.process->as;
  const uint64_t g = run.config.iterations;
  for (uint64_t p = 0; p < run.config.pages; ++p) {
    const StressAccess a = stress_access(run, as, false, page_va(p), 0);
    if (a.done && a.value == tag(g, p)) continue;
    StressRun::Message m;
    m << "final state: page " << p << " holds " << vm::Hex{a.value} << ", expected the tag "
      << vm::Hex{tag(g, p)} << " of generation " << g;
    run.violation("state-mismatch", m);
    return;
  }
}

}  // namespace

const StressWorkloadOps& munmap_vs_access_workload() {
  static const StressWorkloadOps ops{setup, worker, check};
  return ops;
}

}  // namespace port
