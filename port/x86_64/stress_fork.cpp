// Workload fork-cow: one parent process, one thread per CPU. The siblings
// (CPUs 1..N-1) keep writing rising counters into their own pages of the
// parent; CPU 0 forks it again and again, checks in each child that every
// page shows a value the page held at some moment during the fork (nothing
// written before the fork missing, nothing written after it visible, and
// the view frozen from then on), writes into one child page, checks the
// parent does not see that write, and destroys the child. With one CPU, CPU 0
// also plays the siblings between forks.
#include "cpu.hpp"
#include "percpu.hpp"
#include "stress_run.hpp"
#include "vm/vm_map.hpp"

namespace port {
namespace {

constexpr uint64_t kBase = 0x20000000;
constexpr uint64_t kSiblingMagic = 0xc0ull << 56;
constexpr uint64_t kChildMagic = 0xddull << 56;
constexpr uint64_t kForkerMagic = 0xf0ull << 56;

struct Shared {
  vm::Process* parent = nullptr;
  // Per sibling page: the value whose store is about to start, and the last
  // one whose store completed.
  uint64_t* started;
  uint64_t* committed;
  uint64_t* low;       // CPU 0's scratch: committed[] before a fork
  uint64_t* high;      // ... started[] after it
  uint64_t* snapshot;  // ... what the child showed first
  uint32_t done = 0;
} shared;

uint64_t sibling_value(uint64_t page, uint64_t count) {
  return kSiblingMagic | (page << 32) | count;
}
uint64_t page_va(uint64_t page) {
  return kBase + page * vm::kPageSize;
}
// The CPU 0 page that follows the sibling pages.
uint64_t forker_page(const StressRun& run) {
  return run.config.pages;
}
unsigned owner(const StressRun& run, uint64_t page) {
  return run.cpus == 1 ? 0 : 1 + static_cast<unsigned>(page % (run.cpus - 1));
}

bool setup(StressRun& run) {
  const uint64_t n = run.config.pages;
  shared = Shared{};
  shared.started = new uint64_t[n]();
  shared.committed = new uint64_t[n]();
  shared.low = new uint64_t[n]();
  shared.high = new uint64_t[n]();
  shared.snapshot = new uint64_t[n]();
  shared.parent = run.kernel.create_process("parent");
  if (shared.parent == nullptr) return false;
  vm::MmapRequest req;
  req.has_addr = true;
  req.addr = kBase;
  req.len = (n + 1) * vm::kPageSize;
  req.prot = static_cast<vm::Prot>(vm::kProtRead | vm::kProtWrite);
  req.share = vm::Share::kPrivate;
  req.fixed = true;
  vm::vaddr_t at = 0;
  if (vm::vm_mmap(run.kernel.vm, *shared.parent->as, req, &at) != vm::Status::kOk) return false;
  // Every page starts written (count 0), so the first fork already shares.
  stress_activate(run, *shared.parent->as);
  for (uint64_t p = 0; p < n; ++p) {
    shared.started[p] = shared.committed[p] = sibling_value(p, 0);
    if (!stress_access(run, *shared.parent->as, true, page_va(p), sibling_value(p, 0)).done)
      return false;
  }
  return true;
}

// One store of the next count into page p of the parent.
bool sibling_store(StressRun& run, uint64_t p, uint64_t count) {
  const uint64_t v = sibling_value(p, count);
  __atomic_store_n(&shared.started[p], v, __ATOMIC_RELEASE);
  const StressAccess a = stress_access(run, *shared.parent->as, true, page_va(p), v);
  if (!a.done) {
    StressRun::Message m;
    m << "sibling store into page " << p << " of the parent failed";
    if (a.segv) run.violation("unexpected-fault", m);
    return false;
  }
  __atomic_store_n(&shared.committed[p], v, __ATOMIC_RELEASE);
  return true;
}

void sibling(StressRun& run, unsigned cpu) {
  uint64_t count = 0;
  while (!__atomic_load_n(&shared.done, __ATOMIC_ACQUIRE) && !run.stopping()) {
    ++count;
    for (uint64_t p = 0; p < run.config.pages; ++p)
      if (owner(run, p) == cpu && !sibling_store(run, p, count)) return;
  }
}

bool read_page(StressRun& run, vm::AddressSpace& as, uint64_t p, uint64_t* value) {
  const StressAccess a = stress_access(run, as, false, page_va(p), 0);
  if (a.done) {
    *value = a.value;
    return true;
  }
  StressRun::Message m;
  m << "load of page " << p << " failed";
  if (a.segv) run.violation("unexpected-fault", m);
  return false;
}

// The child's first look: each sibling page within its fork-time bounds.
bool check_child_first(StressRun& run, vm::AddressSpace& child, uint64_t i) {
  for (uint64_t p = 0; p < run.config.pages; ++p) {
    uint64_t v = 0;
    if (!read_page(run, child, p, &v)) return false;
    shared.snapshot[p] = v;
    run.add(&run.counters.snapshot_checks);
    if (v >= shared.low[p] && v <= shared.high[p] && (v >> 32) == (shared.low[p] >> 32)) continue;
    StressRun::Message m;
    m << "fork " << i << ": the child's page " << p << " holds " << vm::Hex{v}
      << "; at the fork it held between " << vm::Hex{shared.low[p]} << " and "
      << vm::Hex{shared.high[p]};
    run.violation("snapshot", m);
    return false;
  }
  uint64_t v = 0;
  if (!read_page(run, child, forker_page(run), &v)) return false;
  if (v == (kForkerMagic | i)) return true;
  StressRun::Message m;
  m << "fork " << i << ": the child's own page holds " << vm::Hex{v} << ", expected "
    << vm::Hex{kForkerMagic | i};
  run.violation("snapshot", m);
  return false;
}

// After the child's own write to page q: its view is still the snapshot
// (the siblings kept writing the parent), and the parent never saw q's write.
bool check_child_again(StressRun& run, vm::AddressSpace& child, uint64_t i, uint64_t q) {
  for (uint64_t p = 0; p < run.config.pages; ++p) {
    uint64_t v = 0;
    if (!read_page(run, child, p, &v)) return false;
    const uint64_t want = p == q ? (kChildMagic | (q << 32) | i) : shared.snapshot[p];
    if (v == want) continue;
    StressRun::Message m;
    m << "fork " << i << ": the child's page " << p << " changed to " << vm::Hex{v}
      << " after the fork; expected " << vm::Hex{want};
    run.violation("snapshot", m);
    return false;
  }
  uint64_t v = 0;
  if (!read_page(run, *shared.parent->as, q, &v)) return false;
  if ((v >> 32) == (sibling_value(q, 0) >> 32)) return true;
  StressRun::Message m;
  m << "fork " << i << ": the parent's page " << q << " holds " << vm::Hex{v}
    << ", not a sibling's value (the child's write leaked into the parent)";
  run.violation("snapshot", m);
  return false;
}

bool one_fork(StressRun& run, uint64_t i) {
  vm::AddressSpace& parent = *shared.parent->as;
  const uint64_t n = run.config.pages;
  if (run.cpus == 1)
    for (uint64_t p = 0; p < n; ++p)
      if (!sibling_store(run, p, i)) return false;
  if (!stress_access(run, parent, true, page_va(forker_page(run)), kForkerMagic | i).done)
    return false;
  for (uint64_t p = 0; p < n; ++p)
    shared.low[p] = __atomic_load_n(&shared.committed[p], __ATOMIC_ACQUIRE);
  vm::Process* child = nullptr;
  if (run.kernel.fork_process(shared.parent, "child", &child) != vm::Status::kOk) {
    StressRun::Message m;
    m << "fork " << i << " failed (out of memory)";
    run.violation("state-mismatch", m);
    return false;
  }
  run.add(&run.counters.forks);
  for (uint64_t p = 0; p < n; ++p)
    shared.high[p] = __atomic_load_n(&shared.started[p], __ATOMIC_ACQUIRE);
  stress_activate(run, *child->as);
  const uint64_t q = i % n;
  bool ok = check_child_first(run, *child->as, i);
  ok = ok && stress_access(run, *child->as, true, page_va(q), kChildMagic | (q << 32) | i).done;
  ok = ok && check_child_again(run, *child->as, i, q);
  run.kernel.destroy_process(child);
  return ok;
}

void worker(StressRun& run, unsigned cpu) {
  stress_activate(run, *shared.parent->as);
  if (cpu != 0) {
    sibling(run, cpu);
    return;
  }
  for (uint64_t i = 1; i <= run.config.iterations && !run.stopping(); ++i) {
    if (!one_fork(run, i)) break;
    run.add(&run.counters.iterations);
  }
  __atomic_store_n(&shared.done, 1, __ATOMIC_RELEASE);
}

// Every sibling page holds the last value its sibling stored, CPU 0's page
// the last fork's number; no child is left.
void check(StressRun& run) {
  vm::AddressSpace& parent = *shared.parent->as;
  for (uint64_t p = 0; p <= run.config.pages; ++p) {
    uint64_t v = 0;
    if (!read_page(run, parent, p, &v)) return;
    const uint64_t want =
        p == forker_page(run) ? (kForkerMagic | run.config.iterations) : shared.committed[p];
    if (v == want) continue;
    StressRun::Message m;
    m << "final state: the parent's page " << p << " holds " << vm::Hex{v} << ", expected "
      << vm::Hex{want};
    run.violation("state-mismatch", m);
    return;
  }
  if (run.kernel.find_process("child") != nullptr)
    run.violation("state-mismatch", StressRun::Message("final state: a child is left"));
}

}  // namespace

const StressWorkloadOps& fork_cow_workload() {
  static const StressWorkloadOps ops{setup, worker, check};
  return ops;
}

}  // namespace port
