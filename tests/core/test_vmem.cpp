// vmem arenas: each policy and constraint on its own, quantum caches,
// importing from a parent, bookkeeping running out, and a randomized run of
// a million mixed alloc/xalloc/free calls against a brute-force model of
// the address space (every answer checked, every failure proved right).
#include "vm/vmem.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace {

using vm::u64;
using vm::VmemArena;
using vm::VmemConstraints;
using vm::VmemPolicy;
using vm::VmemStatus;

// Host pages for the arenas' bookkeeping, counted, with an optional limit.
class HostPages final : public vm::VmemPageSource {
 public:
  ~HostPages() { EXPECT_EQ(held_.size(), 0u) << "bookkeeping pages not returned"; }
  void* alloc_page() override {
    if (held_.size() >= limit_) return nullptr;
    void* p = std::aligned_alloc(vm::kPageSize, vm::kPageSize);
    held_.insert(p);
    return p;
  }
  void free_page(void* page) override {
    ASSERT_EQ(held_.erase(page), 1u);
    std::free(page);
  }
  size_t held() const { return held_.size(); }
  void limit(size_t pages) { limit_ = pages; }

 private:
  std::set<void*> held_;
  size_t limit_ = SIZE_MAX;
};

class Vmem : public ::testing::Test {
 protected:
  void TearDown() override {
    arena_.destroy();
    EXPECT_EQ(pages_.held(), 0u);
  }
  void init(u64 quantum, u64 qcache_max = 0) {
    VmemArena::Config c;
    c.name = "test";
    c.quantum = quantum;
    c.qcache_max = qcache_max;
    c.pages = &pages_;
    ASSERT_EQ(arena_.init(c), VmemStatus::kOk);
  }
  u64 alloc(u64 size, VmemPolicy p = VmemPolicy::kInstantFit) {
    u64 a = 0;
    EXPECT_EQ(arena_.alloc(size, p, &a), VmemStatus::kOk) << size;
    return a;
  }
  void expect_sound() { EXPECT_EQ(arena_.check(), nullptr); }

  HostPages pages_;
  VmemArena arena_;
};

TEST_F(Vmem, AllocatesFromAddedSpansAndCoalescesOnFree) {
  init(0x1000);
  ASSERT_EQ(arena_.add(0x10000, 0x10000), VmemStatus::kOk);
  const u64 a = alloc(0x1000), b = alloc(0x2000), c = alloc(0x1000);
  EXPECT_NE(a, b);
  EXPECT_EQ(arena_.stats().alloc_bytes, 0x4000u);
  expect_sound();
  EXPECT_EQ(arena_.free(b, 0x2000), VmemStatus::kOk);
  EXPECT_EQ(arena_.free(a, 0x1000), VmemStatus::kOk);
  EXPECT_EQ(arena_.free(c, 0x1000), VmemStatus::kOk);
  expect_sound();
  // Everything coalesced back into the one free segment of the span.
  EXPECT_EQ(arena_.stats().free_segments, 1u);
  EXPECT_EQ(arena_.stats().alloc_bytes, 0u);
  EXPECT_EQ(alloc(0x10000), 0x10000u);
}

TEST_F(Vmem, SizesRoundUpToTheQuantum) {
  init(0x1000);
  ASSERT_EQ(arena_.add(0, 0x10000), VmemStatus::kOk);
  const u64 a = alloc(1);
  EXPECT_EQ(arena_.stats().alloc_bytes, 0x1000u);
  EXPECT_EQ(arena_.free(a, 0x1000), VmemStatus::kOk);
}

TEST_F(Vmem, RefusesBadSpansFreesAndConstraints) {
  init(0x1000);
  u64 a = 0;
  EXPECT_EQ(arena_.add(0x10800, 0x1000), VmemStatus::kInvalid);  // unaligned
  ASSERT_EQ(arena_.add(0x10000, 0x4000), VmemStatus::kOk);
  EXPECT_EQ(arena_.add(0x13000, 0x2000), VmemStatus::kInvalid);  // overlaps
  EXPECT_EQ(arena_.add(0xf000, 0x2000), VmemStatus::kInvalid);
  EXPECT_EQ(arena_.alloc(0, VmemPolicy::kInstantFit, &a), VmemStatus::kInvalid);
  a = alloc(0x1000);
  EXPECT_EQ(arena_.free(a, 0x2000), VmemStatus::kInvalid);  // wrong size
  EXPECT_EQ(arena_.free(a + 0x1000, 0x1000), VmemStatus::kInvalid);
  EXPECT_EQ(arena_.free(a, 0x1000), VmemStatus::kOk);
  EXPECT_EQ(arena_.free(a, 0x1000), VmemStatus::kInvalid);  // double free
  VmemConstraints c;
  c.align = 0x1800;
  EXPECT_EQ(arena_.xalloc(0x1000, c, VmemPolicy::kInstantFit, &a), VmemStatus::kInvalid);
  c = {};
  c.phase = 0x1000;  // a phase needs an alignment
  EXPECT_EQ(arena_.xalloc(0x1000, c, VmemPolicy::kInstantFit, &a), VmemStatus::kInvalid);
  c = {};
  c.nocross = 0x1000;  // smaller than the request
  EXPECT_EQ(arena_.xalloc(0x2000, c, VmemPolicy::kInstantFit, &a), VmemStatus::kInvalid);
  c = {};
  c.min_addr = 0x20000;
  c.max_addr = 0x10000;
  EXPECT_EQ(arena_.xalloc(0x1000, c, VmemPolicy::kInstantFit, &a), VmemStatus::kInvalid);
  expect_sound();
}

TEST_F(Vmem, InstantFitTakesAListThatMustFitElseSearchesItsOwn) {
  init(1);
  // Free runs of 3 (list 1) and 16 (list 4) separated by allocations.
  ASSERT_EQ(arena_.add(0, 100), VmemStatus::kOk);
  const u64 all = alloc(100);
  ASSERT_EQ(all, 0u);
  ASSERT_EQ(arena_.free(0, 100), VmemStatus::kOk);
  const u64 a = alloc(3), b = alloc(1), c = alloc(16), d = alloc(80);
  (void)b;
  (void)d;
  ASSERT_EQ(arena_.free(a, 3), VmemStatus::kOk);
  ASSERT_EQ(arena_.free(c, 16), VmemStatus::kOk);
  // 2 is a power of two: list 1 holds only segments >= 2, the run of 3.
  EXPECT_EQ(alloc(2), a);
  ASSERT_EQ(arena_.free(a, 2), VmemStatus::kOk);
  // 3 is not: the first list sure to fit is list 2 and up (the run of 16)...
  EXPECT_EQ(alloc(3), c);
  ASSERT_EQ(arena_.free(c, 3), VmemStatus::kOk);
  // ...but with 16 taken, the run of 3 in list 1 is found by the search.
  EXPECT_EQ(alloc(16), c);
  EXPECT_EQ(alloc(3), a);
  expect_sound();
}

TEST_F(Vmem, BestFitTakesTheSmallestFreeSegment) {
  init(1);
  ASSERT_EQ(arena_.add(0, 200), VmemStatus::kOk);
  // Free runs of 12 at 0, 9 at 20, 10 at 40, 9 at 60 (lowest address wins ties).
  std::vector<std::pair<u64, u64>> used = {{12, 8}, {29, 11}, {50, 10}, {69, 131}};
  (void)alloc(200);
  ASSERT_EQ(arena_.free(0, 200), VmemStatus::kOk);
  u64 x = 0;
  for (auto [at, len] : used) {
    VmemConstraints c;
    c.min_addr = at;
    c.max_addr = at + len;
    ASSERT_EQ(arena_.xalloc(len, c, VmemPolicy::kInstantFit, &x), VmemStatus::kOk);
    ASSERT_EQ(x, at);
  }
  EXPECT_EQ(alloc(9, VmemPolicy::kBestFit), 20u);
  EXPECT_EQ(alloc(9, VmemPolicy::kBestFit), 60u);
  EXPECT_EQ(alloc(9, VmemPolicy::kBestFit), 40u);
  EXPECT_EQ(alloc(9, VmemPolicy::kBestFit), 0u);
  expect_sound();
}

TEST_F(Vmem, NextFitResumesAfterThePreviousAllocationAndWraps) {
  init(0x1000);
  ASSERT_EQ(arena_.add(0, 0x8000), VmemStatus::kOk);
  EXPECT_EQ(alloc(0x1000, VmemPolicy::kNextFit), 0x0000u);
  EXPECT_EQ(alloc(0x1000, VmemPolicy::kNextFit), 0x1000u);
  ASSERT_EQ(arena_.free(0, 0x1000), VmemStatus::kOk);
  // Not the freed range at 0: next fit goes on from where it was.
  EXPECT_EQ(alloc(0x1000, VmemPolicy::kNextFit), 0x2000u);
  EXPECT_EQ(alloc(0x5000, VmemPolicy::kNextFit), 0x3000u);
  // The end is reached: it wraps around to the hole at 0.
  EXPECT_EQ(alloc(0x1000, VmemPolicy::kNextFit), 0x0000u);
  expect_sound();
}

TEST_F(Vmem, XallocHonoursAlignPhaseNocrossAndLimits) {
  init(0x1000);
  ASSERT_EQ(arena_.add(0x1000, 0x100000), VmemStatus::kOk);
  u64 a = 0;
  VmemConstraints c;
  c.align = 0x10000;
  c.phase = 0x3000;
  ASSERT_EQ(arena_.xalloc(0x2000, c, VmemPolicy::kInstantFit, &a), VmemStatus::kOk);
  EXPECT_EQ(a % 0x10000, 0x3000u);
  c = {};
  c.nocross = 0x4000;
  c.min_addr = 0x7000;
  ASSERT_EQ(arena_.xalloc(0x3000, c, VmemPolicy::kBestFit, &a), VmemStatus::kOk);
  EXPECT_EQ(a / 0x4000, (a + 0x3000 - 1) / 0x4000) << std::hex << a;
  EXPECT_GE(a, 0x7000u);
  c = {};
  c.min_addr = 0x50000;
  c.max_addr = 0x53000;
  ASSERT_EQ(arena_.xalloc(0x3000, c, VmemPolicy::kNextFit, &a), VmemStatus::kOk);
  EXPECT_EQ(a, 0x50000u);
  EXPECT_EQ(arena_.xalloc(0x1000, c, VmemPolicy::kInstantFit, &a), VmemStatus::kNoSpace);
  expect_sound();
}

TEST_F(Vmem, QuantumCachesServeSmallSizesAndAreReaped) {
  init(0x1000, 0x4000);
  ASSERT_EQ(arena_.add(0, 0x100000), VmemStatus::kOk);
  const u64 a = alloc(0x2000);
  ASSERT_EQ(arena_.free(a, 0x2000), VmemStatus::kOk);
  // Still allocated in the arena, held by the cache for size 2 quanta.
  EXPECT_EQ(arena_.stats().alloc_bytes, 0x2000u);
  EXPECT_EQ(arena_.free(a, 0x2000), VmemStatus::kInvalid);  // double free caught
  EXPECT_EQ(alloc(0x2000), a);
  EXPECT_EQ(arena_.stats().qcache_hits, 1u);
  ASSERT_EQ(arena_.free(a, 0x2000), VmemStatus::kOk);
  expect_sound();
  arena_.reap();
  EXPECT_EQ(arena_.stats().alloc_bytes, 0u);
  expect_sound();
}

TEST_F(Vmem, AFullArenaReapsItsCachesBeforeFailing) {
  init(0x1000, 0x1000);
  ASSERT_EQ(arena_.add(0, 0x4000), VmemStatus::kOk);
  u64 a[4];
  for (u64& x : a) x = alloc(0x1000);
  for (u64 x : a) ASSERT_EQ(arena_.free(x, 0x1000), VmemStatus::kOk);
  EXPECT_EQ(alloc(0x4000), 0u);  // the cached quanta were given back first
  expect_sound();
}

TEST_F(Vmem, ImportsSpansFromItsSourceAndGivesThemBack) {
  init(0x1000);
  ASSERT_EQ(arena_.add(0x100000, 0x100000), VmemStatus::kOk);
  VmemArena child;
  VmemArena::Config c;
  c.name = "child";
  c.quantum = 0x100;
  c.source = &arena_;
  c.import_quantum = 0x4000;
  c.pages = &pages_;
  ASSERT_EQ(child.init(c), VmemStatus::kOk);
  u64 a = 0, b = 0;
  ASSERT_EQ(child.alloc(0x100, VmemPolicy::kInstantFit, &a), VmemStatus::kOk);
  ASSERT_EQ(child.alloc(0x5000, VmemPolicy::kInstantFit, &b), VmemStatus::kOk);
  EXPECT_EQ(child.stats().imported_spans, 2u);
  EXPECT_EQ(arena_.stats().alloc_bytes, 0x4000u + 0x8000u);
  EXPECT_EQ(child.check(), nullptr);
  ASSERT_EQ(child.free(b, 0x5000), VmemStatus::kOk);
  EXPECT_EQ(child.stats().imported_spans, 1u);
  EXPECT_EQ(arena_.stats().alloc_bytes, 0x4000u);
  ASSERT_EQ(child.free(a, 0x100), VmemStatus::kOk);
  EXPECT_EQ(arena_.stats().alloc_bytes, 0u);
  EXPECT_EQ(child.check(), nullptr);
  expect_sound();
  child.destroy();
}

TEST_F(Vmem, RunningOutOfBookkeepingPagesFailsCleanly) {
  init(1);
  ASSERT_EQ(arena_.add(0, u64{1} << 40), VmemStatus::kOk);
  pages_.limit(pages_.held() + 1);  // the hash's first page, no more tags
  std::vector<u64> got;
  u64 a = 0;
  VmemStatus st;
  while ((st = arena_.alloc(1, VmemPolicy::kInstantFit, &a)) == VmemStatus::kOk) got.push_back(a);
  EXPECT_EQ(st, VmemStatus::kNoTags);
  EXPECT_GT(got.size(), 10u);
  expect_sound();
  for (u64 x : got) ASSERT_EQ(arena_.free(x, 1), VmemStatus::kOk);
  expect_sound();
}

// ---- Randomized, against a brute-force model ---------------------------------------

// The model knows the spans and what the user holds; on a failure it
// searches every free gap for a fit the arena should have found.
struct Model {
  std::vector<std::pair<u64, u64>> spans;  // start, end
  std::map<u64, u64> held;                 // start -> size

  bool overlaps(u64 a, u64 size) const {
    auto it = held.upper_bound(a);
    if (it != held.end() && it->first < a + size) return true;
    if (it != held.begin() && std::prev(it)->first + std::prev(it)->second > a) return true;
    return false;
  }
  bool inside_span(u64 a, u64 size) const {
    for (auto [s, e] : spans)
      if (a >= s && a + size <= e) return true;
    return false;
  }
  static bool satisfies(u64 a, u64 size, const VmemConstraints& c, u64 quantum) {
    const u64 align = c.align != 0 ? c.align : quantum;
    if (a % align != c.phase) return false;
    if (c.nocross != 0 && a / c.nocross != (a + size - 1) / c.nocross) return false;
    if (a < c.min_addr) return false;
    if (c.max_addr != 0 && a + size > c.max_addr) return false;
    return true;
  }
  // Whether some placement of `size` under `c` is free (by brute force over
  // candidate starts: each gap's start and every aligned point in it).
  bool fit_exists(u64 size, const VmemConstraints& c, u64 quantum) const {
    const u64 align = c.align != 0 ? c.align : quantum;
    for (auto [s, e] : spans) {
      u64 gap = s;
      auto it = held.lower_bound(s);
      for (;;) {
        const u64 gap_end = it != held.end() && it->first < e ? it->first : e;
        for (u64 a = gap + ((c.phase - gap) % align); a + size <= gap_end; a += align)
          if (satisfies(a, size, c, quantum)) return true;
        if (it == held.end() || it->first >= e) break;
        gap = it->first + it->second;
        ++it;
      }
    }
    return false;
  }
};

TEST_F(Vmem, RandomizedMillionOpsAgainstBruteForceModel) {
  constexpr u64 kQuantum = 0x10;
  init(kQuantum, 4 * kQuantum);
  Model model;
  for (auto [s, len] :
       {std::pair<u64, u64>{0x1000, 0x8000}, {0x20000, 0x4000}, {0x40000, 0x10000}}) {
    ASSERT_EQ(arena_.add(s, len), VmemStatus::kOk);
    model.spans.push_back({s, s + len});
  }
  std::mt19937_64 rng(20261205);
  auto pick = [&](u64 n) { return static_cast<u64>(rng() % n); };
  std::vector<u64> order;  // held starts, for picking one to free
  u64 failures = 0, proved = 0;
  constexpr int kOps = 1000000;
  for (int op = 0; op < kOps; ++op) {
    const u64 r = pick(100);
    if (r < 45 && !order.empty()) {
      const size_t i = pick(order.size());
      const u64 a = order[i];
      ASSERT_EQ(arena_.free(a, model.held[a]), VmemStatus::kOk) << op;
      model.held.erase(a);
      order[i] = order.back();
      order.pop_back();
      continue;
    }
    const u64 size = (pick(4) == 0 ? 1 + pick(64) : 1 + pick(6)) * kQuantum;
    const VmemPolicy policy = static_cast<VmemPolicy>(pick(3));
    VmemConstraints c;
    const bool constrained = pick(3) == 0;
    if (constrained) {
      if (pick(2) == 0) {
        c.align = kQuantum << pick(7);
        c.phase = pick(c.align / kQuantum) * kQuantum;
      }
      if (pick(3) == 0) {
        u64 n = size;
        while ((n & (n - 1)) != 0 || n < c.align) n += n & -n;  // a power of two >= both
        c.nocross = n << pick(3);
      }
      if (pick(3) == 0) {
        c.min_addr = model.spans[pick(3)].first + pick(0x100) * kQuantum;
        if (pick(2) == 0) c.max_addr = c.min_addr + size + pick(0x400) * kQuantum;
      }
    }
    u64 a = 0;
    const VmemStatus st =
        constrained ? arena_.xalloc(size, c, policy, &a) : arena_.alloc(size, policy, &a);
    if (st == VmemStatus::kOk) {
      ASSERT_TRUE(model.inside_span(a, size)) << op;
      ASSERT_FALSE(model.overlaps(a, size)) << op << std::hex << " at " << a;
      ASSERT_TRUE(Model::satisfies(a, size, c, kQuantum)) << op;
      model.held[a] = size;
      order.push_back(a);
    } else {
      ASSERT_EQ(st, VmemStatus::kNoSpace) << op;
      ++failures;
      // Proving a failure costs a walk of the whole space: do it often, not always.
      if (failures % 4 == 0) {
        ASSERT_FALSE(model.fit_exists(size, c, kQuantum)) << op;
        ++proved;
      }
    }
    if (op % 20000 == 0) {
      ASSERT_EQ(arena_.check(), nullptr) << op;
    }
  }
  EXPECT_GT(failures, 1000u);  // the space was full often enough to matter
  EXPECT_GT(proved, 250u);
  ASSERT_EQ(arena_.check(), nullptr);
  for (auto [a, size] : model.held) ASSERT_EQ(arena_.free(a, size), VmemStatus::kOk);
  arena_.reap();
  EXPECT_EQ(arena_.stats().alloc_bytes, 0u);
  EXPECT_EQ(arena_.stats().free_segments, 3u);
  ASSERT_EQ(arena_.check(), nullptr);
}

}  // namespace
