// Costs of the simulated machine: accesses that hit present pages, fault
// round trips (#PF → stop → host installs the PTE → resume), single-access
// entries, TLB maintenance, CR3 switches and engine creation.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include "machine/machine.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kUserRw = 0x7;  // P | W | U
constexpr uint64_t kAddr = 0x000ffffffffff000ull;

// Hand-built page tables, as in tests/machine: a bump allocator over RAM.
class Tables {
 public:
  explicit Tables(Machine& m) : m_(m) {}

  uint64_t frame() {
    const uint64_t pa = next_;
    next_ += kPage;
    if (next_ > m_.ram_bytes()) throw std::runtime_error("bench: out of frames");
    std::memset(m_.phys_base() + pa, 0, kPage);
    return pa;
  }

  uint64_t root() {
    const uint64_t pml4 = frame();
    std::memcpy(m_.phys_base() + pml4 + 256 * 8, m_.phys_base() + m_.kernel_root() + 256 * 8,
                256 * 8);
    return pml4;
  }

  uint64_t& pte(uint64_t root, uint64_t va) {
    uint64_t table = root;
    for (int level = 3; level > 0; --level) {
      uint64_t& e = entry(table, va, level);
      if (!(e & 1)) e = frame() | kUserRw;
      table = e & kAddr;
    }
    return entry(table, va, 0);
  }

 private:
  uint64_t& entry(uint64_t table, uint64_t va, int level) {
    const uint64_t index = (va >> (12 + 9 * level)) & 511;
    return *reinterpret_cast<uint64_t*>(m_.phys_base() + table + index * 8);
  }

  Machine& m_;
  uint64_t next_ = 1 << 20;
};

constexpr uint64_t kBase = 0x10000000;

struct Fixture {
  explicit Fixture(uint64_t ram = 256ull << 20, uint32_t cpus = 1)
      : m(ram, cpus), t(m), root(t.root()) {}
  void map_range(uint64_t va, uint64_t pages) {
    for (uint64_t i = 0; i < pages; ++i) t.pte(root, va + i * kPage) = t.frame() | kUserRw;
  }
  Stop run(UserContext& ctx, uint32_t cpu = 0) { return m.run(cpu, root, ctx); }

  Machine m;
  Tables t;
  uint64_t root;
};

// 1-byte accesses with stride 64 over N present pages, one emulator entry
// per sweep: the throughput of the emulated CPU on TLB-resident pages.
void TouchSweep(benchmark::State& state, UserAccessKind kind) {
  const uint64_t pages = state.range(0);
  Fixture f;
  f.map_range(kBase, pages);
  const UserAccess sweep{kind, kBase, 1, 0x5a, 64, pages * kPage / 64};
  UserContext warm = f.m.prepare(sweep);
  f.run(warm);  // fills the TLB and translates the loop
  for (auto _ : state) {
    UserContext ctx = f.m.prepare(sweep);
    if (f.run(ctx).kind != StopKind::kDone) state.SkipWithError("unexpected fault");
  }
  state.SetItemsProcessed(state.iterations() * sweep.count);
}
void BM_TouchLoad(benchmark::State& state) {
  TouchSweep(state, UserAccessKind::kTouchLoad);
}
void BM_TouchStore(benchmark::State& state) {
  TouchSweep(state, UserAccessKind::kTouchStore);
}
BENCHMARK(BM_TouchLoad)->Arg(16)->Arg(256)->Arg(4096);
BENCHMARK(BM_TouchStore)->Arg(16)->Arg(256)->Arg(4096);

// One load per emulator entry on a present page: the fixed cost of run().
void BM_SingleLoad(benchmark::State& state) {
  Fixture f;
  f.map_range(kBase, 1);
  for (auto _ : state) {
    UserContext ctx = f.m.prepare({UserAccessKind::kLoad, kBase, 8});
    benchmark::DoNotOptimize(f.run(ctx).value);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SingleLoad);

// A touch loop over not-present pages; every iteration is one fault round
// trip: #PF → hook → stop → host installs the PTE → restore → resume. All
// pages map one frame. When the region is used up its PTEs are cleared
// (outside the timing) and the TLB flushed.
void BM_FaultRoundTrip(benchmark::State& state) {
  constexpr uint64_t kPages = 1 << 16;
  Fixture f;
  const uint64_t frame = f.t.frame();
  std::vector<uint64_t*> ptes;
  for (uint64_t i = 0; i < kPages; ++i) ptes.push_back(&f.t.pte(f.root, kBase + i * kPage));
  const UserAccess sweep{UserAccessKind::kTouchLoad, kBase, 1, 0, kPage, kPages};
  UserContext ctx = f.m.prepare(sweep);
  uint64_t faults = 0;
  for (auto _ : state) {
    const Stop s = f.run(ctx);
    if (s.kind == StopKind::kPageFault) {
      *ptes[(s.fault_addr - kBase) / kPage] = frame | kUserRw;
      ++faults;
      continue;
    }
    state.PauseTiming();
    for (uint64_t* pte : ptes) *pte = 0;
    f.m.invalidate_all(0);
    ctx = f.m.prepare(sweep);
    state.ResumeTiming();
  }
  state.counters["faults"] = static_cast<double>(faults);
  state.SetItemsProcessed(faults);
}
BENCHMARK(BM_FaultRoundTrip);

// Single-load faults as the simulator would see them from a trace: run →
// #PF → install → run to completion (two entries per access).
void BM_FaultedSingleLoad(benchmark::State& state) {
  constexpr uint64_t kPages = 1 << 16;
  Fixture f;
  const uint64_t frame = f.t.frame();
  std::vector<uint64_t*> ptes;
  for (uint64_t i = 0; i < kPages; ++i) ptes.push_back(&f.t.pte(f.root, kBase + i * kPage));
  uint64_t next = 0;
  for (auto _ : state) {
    if (next == kPages) {
      state.PauseTiming();
      for (uint64_t* pte : ptes) *pte = 0;
      f.m.invalidate_all(0);
      next = 0;
      state.ResumeTiming();
    }
    UserContext ctx = f.m.prepare({UserAccessKind::kLoad, kBase + next * kPage, 8});
    if (f.run(ctx).kind != StopKind::kPageFault) state.SkipWithError("expected a fault");
    *ptes[next++] = frame | kUserRw;
    if (f.run(ctx).kind != StopKind::kDone) state.SkipWithError("expected completion");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FaultedSingleLoad);

// TLB maintenance followed by the access that refills the entry.
void Invalidate(benchmark::State& state, bool one_page) {
  Fixture f;
  f.map_range(kBase, 64);
  UserContext warm = f.m.prepare({UserAccessKind::kTouchLoad, kBase, 1, 0, kPage, 64});
  f.run(warm);
  for (auto _ : state) {
    if (one_page) {
      f.m.invalidate_page(0, kBase);
    } else {
      f.m.invalidate_all(0);
    }
    UserContext ctx = f.m.prepare({UserAccessKind::kLoad, kBase, 1});
    f.run(ctx);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_InvalidatePageThenLoad(benchmark::State& state) {
  Invalidate(state, true);
}
void BM_InvalidateAllThenLoad(benchmark::State& state) {
  Invalidate(state, false);
}
BENCHMARK(BM_InvalidatePageThenLoad);
BENCHMARK(BM_InvalidateAllThenLoad);

// Two address spaces alternating on one CPU: every run writes CR3 (TLB
// flush) and re-saves the clean context.
void BM_RootSwitchLoad(benchmark::State& state) {
  Fixture f;
  const uint64_t root2 = f.t.root();
  f.map_range(kBase, 1);
  f.t.pte(root2, kBase) = f.t.frame() | kUserRw;
  bool flip = false;
  for (auto _ : state) {
    UserContext ctx = f.m.prepare({UserAccessKind::kLoad, kBase, 1});
    f.m.run(0, flip ? root2 : f.root, ctx);
    flip = !flip;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RootSwitchLoad);

// A machine with 64 MiB RAM and its first engine, up to CPL 3 (the engine
// is made on the first run).
void BM_EngineCreation(benchmark::State& state) {
  for (auto _ : state) {
    Machine m(64ull << 20, 1);
    Tables t(m);
    UserContext ctx = m.prepare({UserAccessKind::kLoad, kBase, 1});
    m.run(0, t.root(), ctx);
  }
}
BENCHMARK(BM_EngineCreation)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vmsim
