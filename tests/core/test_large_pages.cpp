// Large pages in the core (spec §9, docs/large-pages.md): the page
// allocator's aligned 2 MiB blocks, and the pmap's 2 MiB entries that split
// in place when an operation covers only part of them.
#include <gtest/gtest.h>

#include <vector>

#include "fake_platform.hpp"
#include "vm/page.hpp"
#include "vm/page_allocator.hpp"
#include "vm/pmap.hpp"
#include "vm/pte.hpp"
#include "vm/tlb_batch.hpp"

namespace {

using vm::paddr_t;
using vm::Page;
using vm::PageAllocator;
using vm::PteAttrs;
using vm::Status;
using vm::u64;
using vm::vaddr_t;
namespace pte = vm::pte;

constexpr u64 kRam = 16 << 20;  // 4096 frames: 8 blocks, the first holds the page array
constexpr u64 kBlock = vm::kLargePageSize;

class BlockTest : public ::testing::Test {
 protected:
  vmtest::FakePlatform platform{kRam};
  PageAllocator pages;
};

TEST_F(BlockTest, AlignedLowestFreeBlockAndAccounting) {
  pages.init(platform, kRam, 0);
  const u64 free_before = pages.stats().free_frames;
  EXPECT_EQ(pages.free_blocks(), 7u) << "the page array takes part of the first block";
  Page* head = pages.alloc_block();
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(pages.phys(head), kBlock) << "the lowest whole aligned block";
  for (u64 i = 0; i < PageAllocator::kBlockFrames; ++i)
    EXPECT_EQ(head[i].state, Page::State::kAllocated);
  EXPECT_EQ(pages.stats().free_frames, free_before - PageAllocator::kBlockFrames);
  EXPECT_EQ(pages.free_blocks(), 6u);
  EXPECT_EQ(pages.check(), nullptr);
  // The frames between the page array and the block became described free
  // frames; single allocations take them first, below the block.
  Page* small = pages.alloc();
  ASSERT_NE(small, nullptr);
  EXPECT_LT(pages.phys(small), kBlock);
  EXPECT_EQ(pages.check(), nullptr);
  for (u64 i = 0; i < PageAllocator::kBlockFrames; ++i) pages.free(head + i);
  EXPECT_EQ(pages.free_blocks(), 7u);
  EXPECT_EQ(pages.check(), nullptr);
}

TEST_F(BlockTest, OneUsedFrameSpoilsABlockAndTheReserveIsKept) {
  pages.init(platform, kRam, 0);
  std::vector<Page*> blocks;
  while (Page* b = pages.alloc_block()) blocks.push_back(b);
  EXPECT_EQ(blocks.size(), 7u);
  EXPECT_EQ(pages.stats().blocks_failed, 1u);
  EXPECT_EQ(pages.stats().failed, 0u) << "a missing block is no failed allocation";
  // Give back one block but keep one frame of it: no block is free.
  for (u64 i = 1; i < PageAllocator::kBlockFrames; ++i) pages.free(blocks[3] + i);
  EXPECT_EQ(pages.alloc_block(), nullptr);
  pages.free(blocks[3]);
  EXPECT_EQ(pages.alloc_block(), blocks[3]) << "deterministic: the same block again";
  EXPECT_EQ(pages.check(), nullptr);
  // `keep_free` frames must stay free after the block.
  for (u64 i = 0; i < PageAllocator::kBlockFrames; ++i) pages.free(blocks[3] + i);
  EXPECT_EQ(pages.alloc_block(pages.stats().free_frames), nullptr);
  EXPECT_NE(pages.alloc_block(0), nullptr);
}

// Fragmentation after churn (docs/large-pages.md): single frames allocated
// and freed in a pseudo-random order, then as many blocks as will come.
TEST_F(BlockTest, ChurnLeavesBlocks) {
  pages.init(platform, kRam, 0);
  std::vector<Page*> held;
  u64 x = 12345;
  for (int round = 0; round < 20000; ++round) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    if (held.size() < 1500 && ((x >> 33) % 3 != 0 || held.empty())) {
      if (Page* p = pages.alloc()) held.push_back(p);
    } else {
      const size_t i = (x >> 20) % held.size();
      pages.free(held[i]);
      held[i] = held.back();
      held.pop_back();
    }
  }
  for (Page* p : held) pages.free(p);
  EXPECT_EQ(pages.free_blocks(), 7u) << "everything freed: every block whole again";
  EXPECT_EQ(pages.check(), nullptr);
}

// While a churned workload still holds frames: the whole blocks left, and
// the blocks the free frames would make, for a frame policy. 32 MiB (15
// whole blocks), 90% taken, freed at random down to a quarter, then random
// allocs/frees around that level until it turned over 16 times (`vmsim
// bench fragmentation` at a small size).
struct Churned {
  u64 whole = 0;
  u64 room = 0;
};
Churned churn_while_held(vm::FramePolicy policy) {
  constexpr u64 kChurnRam = 32 << 20;
  vmtest::FakePlatform platform{kChurnRam};
  PageAllocator pages;
  pages.init(platform, kChurnRam, 0, 0, policy);
  const u64 level = pages.stats().free_frames / 4;
  std::vector<Page*> held;
  u64 x = 12345;
  auto next = [&x] { return (x = x * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  auto drop = [&] {
    const size_t i = next() % held.size();
    pages.free(held[i]);
    held[i] = held.back();
    held.pop_back();
  };
  while (held.size() < level * 4 * 9 / 10) held.push_back(pages.alloc());
  while (held.size() > level) drop();
  for (u64 frees = 0; frees < 16 * level;) {
    if (held.size() < level - 128 || (held.size() < level + 128 && next() % 2 == 0)) {
      held.push_back(pages.alloc());
    } else {
      drop();
      ++frees;
    }
  }
  const Churned c{pages.free_blocks(), pages.stats().free_frames / PageAllocator::kBlockFrames};
  EXPECT_EQ(pages.check(), nullptr);
  for (Page* p : held) pages.free(p);
  EXPECT_EQ(pages.free_blocks(), 15u) << "everything freed: every block whole again";
  return c;
}

// Small frames come from partly used blocks first (docs/large-pages.md):
// with a quarter of RAM held after long churn, nearly all free memory is
// in whole blocks; one LIFO list over all of RAM leaves almost none.
TEST(BlockChurn, PreferringBrokenBlocksKeepsBlocksWhole) {
  const Churned lifo = churn_while_held(vm::FramePolicy::kLifo);
  const Churned broken = churn_while_held(vm::FramePolicy::kPreferBroken);
  EXPECT_EQ(lifo.room, broken.room) << "the same workload";
  EXPECT_GE(broken.whole * 10, broken.room * 9) << "room " << broken.room;
  EXPECT_LE(lifo.whole * 4, lifo.room) << "the baseline: " << lifo.whole << " of " << lifo.room;
}

class LargePmapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pages.init(platform, kRam, 0);
    head = pages.alloc_block();
    ASSERT_NE(head, nullptr);
    for (u64 i = 0; i < 512; ++i) head[i].state = Page::State::kObject;
    ASSERT_EQ(pmap.init(platform, pages, &splits), Status::kOk);
    pmap.activate(0);
  }
  void TearDown() override {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(0, vm::kUserTop, batch);
    batch.flush();
    pmap.destroy();
  }
  paddr_t block() const { return pages.phys(head); }

  vmtest::FakePlatform platform{kRam};
  PageAllocator pages;
  vm::Pmap pmap;
  vm::Atomic<u64> splits;
  Page* head = nullptr;
  static constexpr vaddr_t kVa = 0x40000000;
  const PteAttrs rw{true, false, true};
};

TEST_F(LargePmapTest, EnterMapsAll512PagesWithOneEntry) {
  ASSERT_EQ(pmap.enter_large(kVa, block(), rw), Status::kOk);
  EXPECT_EQ(pmap.large_entries(), 1u);
  for (u64 off : {u64{0}, u64{0x1234}, kBlock - 1}) {
    paddr_t pa = 0;
    ASSERT_TRUE(pmap.extract(kVa + off, &pa, nullptr));
    EXPECT_EQ(pa, block() + off);
  }
  EXPECT_FALSE(pmap.large_slot_empty(kVa));
  EXPECT_EQ(pmap.enter_large(kVa, block(), rw), Status::kFault) << "slot taken";
  EXPECT_EQ(pmap.enter_large(kVa + 0x1000, block(), rw), Status::kInval);
  EXPECT_EQ(pmap.check(), nullptr);
  EXPECT_EQ(splits.load(), 0u);
}

TEST_F(LargePmapTest, PartialRemoveSplitsInPlaceKeepingDirty) {
  ASSERT_EQ(pmap.enter_large(kVa, block(), rw), Status::kOk);
  // The CPU wrote through the 2 MiB entry: D in the PDE.
  {
    vm::TlbBatch batch(platform, pages);
    EXPECT_FALSE(pmap.test_and_clear_accessed(kVa, batch));
  }
  const u64 tables = pmap.table_pages();
  // Set A and D as a walker would (the PDE is found through extract's path).
  struct Ctx {
    int n = 0;
    bool dirty = true;
  } ctx;
  // Mark D through the raw entry: find it by walking.
  u64* pde = nullptr;
  {
    paddr_t table = pmap.root();
    for (unsigned l = pte::kPml4; l > pte::kPd; --l)
      table = pte::addr(reinterpret_cast<u64*>(platform.phys(table))[pte::index(kVa, l)]);
    pde = &reinterpret_cast<u64*>(platform.phys(table))[pte::index(kVa, pte::kPd)];
  }
  ASSERT_TRUE(pte::large(*pde));
  *pde |= pte::kDirty | pte::kAccessed;
  EXPECT_TRUE(pmap.is_dirty(kVa + 0x5000));
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(
        kVa + 0x3000, kVa + 0x4000, batch,
        [](void* c, vaddr_t, paddr_t, bool dirty) {
          auto& x = *static_cast<Ctx*>(c);
          ++x.n;
          x.dirty = x.dirty && dirty;
        },
        &ctx);
    EXPECT_TRUE(batch.pending());
  }
  EXPECT_EQ(ctx.n, 1);
  EXPECT_TRUE(ctx.dirty) << "the PDE's D bit moved to the PTEs";
  EXPECT_EQ(splits.load(), 1u);
  EXPECT_EQ(pmap.large_entries(), 0u);
  EXPECT_EQ(pmap.table_pages(), tables) << "the set-aside table became the page table";
  EXPECT_FALSE(pte::large(*pde));
  paddr_t pa = 0;
  EXPECT_FALSE(pmap.extract(kVa + 0x3000, &pa, nullptr));
  ASSERT_TRUE(pmap.extract(kVa + 0x4000, &pa, nullptr));
  EXPECT_EQ(pa, block() + 0x4000) << "the block stays where it is";
  EXPECT_TRUE(pmap.is_dirty(kVa + 0x1ff000));
  EXPECT_EQ(pmap.check(), nullptr);
}

TEST_F(LargePmapTest, WholeRangeOperationsKeepTheLargeEntry) {
  ASSERT_EQ(pmap.enter_large(kVa, block(), rw), Status::kOk);
  PteAttrs ro = rw;
  ro.writable = false;
  {
    vm::TlbBatch batch(platform, pages);
    pmap.protect(kVa - 0x1000, kVa + kBlock + 0x1000, ro, batch);
  }
  PteAttrs got;
  ASSERT_TRUE(pmap.extract(kVa + 0x7000, nullptr, &got));
  EXPECT_FALSE(got.writable);
  EXPECT_EQ(pmap.large_entries(), 1u);
  EXPECT_EQ(splits.load(), 0u);
  // Part of it, to rights it already has: nothing to split.
  {
    vm::TlbBatch batch(platform, pages);
    pmap.protect(kVa, kVa + 0x1000, ro, batch);
  }
  EXPECT_EQ(splits.load(), 0u);
  // Part of it, lowered: split, and only that page lowered.
  {
    vm::TlbBatch batch(platform, pages);
    PteAttrs rx_none = ro;
    rx_none.executable = false;
    pmap.protect(kVa, kVa + 0x1000, rx_none, batch);
  }
  EXPECT_EQ(splits.load(), 0u) << "ro without x is what it has: still nothing";
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(kVa + kBlock - 0x1000, kVa + kBlock, batch);
  }
  EXPECT_EQ(splits.load(), 1u);
  EXPECT_EQ(pmap.large_entries(), 0u);
  EXPECT_EQ(pmap.check(), nullptr);
}

TEST_F(LargePmapTest, EnterInsideALargeEntrySplitsIt) {
  ASSERT_EQ(pmap.enter_large(kVa, block(), rw), Status::kOk);
  Page* other = pages.alloc();
  ASSERT_NE(other, nullptr);
  {
    vm::TlbBatch batch(platform, pages);
    ASSERT_EQ(pmap.enter(kVa + 0x2000, pages.phys(other), rw, batch), Status::kOk);
  }
  EXPECT_EQ(splits.load(), 1u);
  paddr_t pa = 0;
  ASSERT_TRUE(pmap.extract(kVa + 0x2000, &pa, nullptr));
  EXPECT_EQ(pa, pages.phys(other));
  ASSERT_TRUE(pmap.extract(kVa + 0x3000, &pa, nullptr));
  EXPECT_EQ(pa, block() + 0x3000);
  int visited = 0;
  pmap.for_each([](void* c, vaddr_t, paddr_t, PteAttrs) { ++*static_cast<int*>(c); }, &visited);
  EXPECT_EQ(visited, 512);
  EXPECT_EQ(pmap.check(), nullptr);
}

// Invalidate before install (Linux's pmdp_invalidate, docs/large-pages.md):
// when the 2 MiB translation is shot down, on every CPU of the address
// space, the entry is not present and not yet a table; nothing of the split
// waits for the caller's batch.
TEST_F(LargePmapTest, SplitShootsThe2MiBDownEverywhereBeforeTheTableGoesIn) {
  pmap.activate(1);
  ASSERT_EQ(pmap.enter_large(kVa, block(), rw), Status::kOk);
  const u64* pde = nullptr;
  {
    paddr_t table = pmap.root();
    for (unsigned l = pte::kPml4; l > pte::kPd; --l)
      table = pte::addr(reinterpret_cast<u64*>(platform.phys(table))[pte::index(kVa, l)]);
    pde = &reinterpret_cast<u64*>(platform.phys(table))[pte::index(kVa, pte::kPd)];
  }
  std::vector<u64> seen;
  platform.tlb_calls.clear();
  platform.on_tlb = [&](const vmtest::FakePlatform::TlbCall&) { seen.push_back(*pde); };
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(kVa + 0x3000, kVa + 0x4000, batch);
    ASSERT_EQ(platform.tlb_calls.size(), 1u) << "the split's own shootdown, sent at once";
    EXPECT_FALSE(platform.tlb_calls[0].all);
    EXPECT_EQ(platform.tlb_calls[0].va, kVa);
    EXPECT_EQ(platform.tlb_calls[0].cpus, 0b11u) << "every CPU of the address space";
    EXPECT_FALSE(pte::present(seen[0]));
    EXPECT_TRUE(pte::large(seen[0])) << "still the large entry, made not present";
  }
  ASSERT_EQ(platform.tlb_calls.size(), 2u);
  EXPECT_EQ(platform.tlb_calls[1].va, kVa + 0x3000) << "the caller's: the page it removed";
  EXPECT_FALSE(pte::large(*pde));
  EXPECT_TRUE(pte::present(*pde));
  platform.on_tlb = nullptr;
  EXPECT_EQ(pmap.check(), nullptr);
}

// Mutation thp-split-local-flush: the splitting CPU alone.
TEST_F(LargePmapTest, SplitLocalOnlyMutationShootsDownTheSplittingCpuAlone) {
  pmap.activate(1);
  pmap.split_invalidates_only_local();
  platform.cpu = 1;
  ASSERT_EQ(pmap.enter_large(kVa, block(), rw), Status::kOk);
  platform.tlb_calls.clear();
  {
    vm::TlbBatch batch(platform, pages);
    pmap.remove(kVa + 0x3000, kVa + 0x4000, batch);
    ASSERT_EQ(platform.tlb_calls.size(), 1u);
    EXPECT_EQ(platform.tlb_calls[0].cpus, 0b10u);
  }
  platform.cpu = 0;
  EXPECT_EQ(pmap.check(), nullptr);
}

}  // namespace
