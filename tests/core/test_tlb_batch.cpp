// TlbBatch: what reaches the platform, and that deferred frames are freed
// only after the invalidations.
#include <gtest/gtest.h>

#include <vector>

#include "fake_platform.hpp"
#include "vm/page_allocator.hpp"
#include "vm/tlb_batch.hpp"

namespace {

using vm::CpuSet;
using vm::Page;
using vm::TlbBatch;

constexpr size_t kRam = 1 << 20;

CpuSet cpus(std::initializer_list<unsigned> ids) {
  CpuSet s;
  for (unsigned c : ids) s.add(c);
  return s;
}

class TlbBatchTest : public ::testing::Test {
 protected:
  void SetUp() override { pages.init(platform, kRam, 0); }
  vmtest::FakePlatform platform{kRam};
  vm::PageAllocator pages;
};

TEST_F(TlbBatchTest, NothingPendingSendsNothing) {
  {
    TlbBatch b(platform, pages);
    b.flush();
  }
  EXPECT_TRUE(platform.tlb_calls.empty());
}

TEST_F(TlbBatchTest, PagesThenFlush) {
  TlbBatch b(platform, pages);
  b.invalidate(0x5000, cpus({0}), 0x1000);
  b.invalidate(0x5000, cpus({1}), 0x2000);
  b.invalidate(0x5000, cpus({0}), 0x1000);  // duplicate: sent once
  EXPECT_TRUE(platform.tlb_calls.empty());  // nothing before flush
  EXPECT_TRUE(b.pending());
  b.flush();
  EXPECT_FALSE(b.pending());
  ASSERT_EQ(platform.tlb_calls.size(), 2u);
  for (const auto& c : platform.tlb_calls) {
    EXPECT_FALSE(c.all);
    EXPECT_EQ(c.root, 0x5000u);
    EXPECT_EQ(c.cpus, cpus({0, 1}).bits());  // union of the CPU sets
  }
  EXPECT_EQ(platform.tlb_calls[0].va, 0x1000u);
  EXPECT_EQ(platform.tlb_calls[1].va, 0x2000u);
  EXPECT_EQ(b.pages_invalidated(), 2u);
  EXPECT_EQ(b.full_flushes(), 0u);
  b.flush();  // empty again
  EXPECT_EQ(platform.tlb_calls.size(), 2u);
}

TEST_F(TlbBatchTest, OverflowBecomesOneFullFlush) {
  TlbBatch b(platform, pages);
  for (unsigned i = 0; i < TlbBatch::kMaxPages; ++i) b.invalidate(0x5000, cpus({0}), i * 0x1000);
  b.flush();
  EXPECT_EQ(platform.tlb_calls.size(), TlbBatch::kMaxPages);  // exactly kMaxPages: per page
  platform.tlb_calls.clear();
  for (unsigned i = 0; i <= TlbBatch::kMaxPages; ++i) b.invalidate(0x5000, cpus({2}), i * 0x1000);
  b.flush();
  ASSERT_EQ(platform.tlb_calls.size(), 1u);
  EXPECT_TRUE(platform.tlb_calls[0].all);
  EXPECT_EQ(platform.tlb_calls[0].root, 0x5000u);
  EXPECT_EQ(platform.tlb_calls[0].cpus, cpus({2}).bits());
  EXPECT_EQ(b.full_flushes(), 1u);
}

TEST_F(TlbBatchTest, InvalidateAllSubsumesPages) {
  TlbBatch b(platform, pages);
  b.invalidate(0x5000, cpus({0}), 0x1000);
  b.invalidate_all(0x5000, cpus({1}));
  b.invalidate(0x5000, cpus({3}), 0x2000);
  b.flush();
  ASSERT_EQ(platform.tlb_calls.size(), 1u);
  EXPECT_TRUE(platform.tlb_calls[0].all);
  EXPECT_EQ(platform.tlb_calls[0].cpus, cpus({0, 1, 3}).bits());
}

TEST_F(TlbBatchTest, SecondRootFlushesTheFirst) {
  TlbBatch b(platform, pages);
  b.invalidate(0x5000, cpus({0}), 0x1000);
  b.invalidate(0x9000, cpus({1}), 0x3000);
  ASSERT_EQ(platform.tlb_calls.size(), 1u);  // root 0x5000 sent when 0x9000 arrived
  EXPECT_EQ(platform.tlb_calls[0].root, 0x5000u);
  EXPECT_EQ(platform.tlb_calls[0].cpus, cpus({0}).bits());
  b.flush();
  ASSERT_EQ(platform.tlb_calls.size(), 2u);
  EXPECT_EQ(platform.tlb_calls[1].root, 0x9000u);
  EXPECT_EQ(platform.tlb_calls[1].va, 0x3000u);
  EXPECT_EQ(platform.tlb_calls[1].cpus, cpus({1}).bits());
}

// Unhook → invalidate → free: at every invalidation the deferred frames are
// still allocated; after flush() they are free, in deferral order.
TEST_F(TlbBatchTest, DeferredFreesFollowTheInvalidations) {
  std::vector<Page*> frames;
  for (int i = 0; i < 3; ++i) {
    Page* p = pages.alloc();
    p->state = Page::State::kPageTable;
    frames.push_back(p);
  }
  const vm::u64 free_before = pages.stats().free_frames;
  int calls_seen = 0;
  platform.on_tlb = [&](const vmtest::FakePlatform::TlbCall&) {
    ++calls_seen;
    EXPECT_EQ(pages.stats().free_frames, free_before);
    for (Page* p : frames) EXPECT_EQ(p->state, Page::State::kPageTable);
  };
  {
    TlbBatch b(platform, pages);
    b.invalidate(0x5000, cpus({0}), 0x1000);
    b.invalidate(0x5000, cpus({0}), 0x2000);
    for (Page* p : frames) b.defer_free(p);
    EXPECT_EQ(pages.stats().free_frames, free_before);
    b.flush();
    EXPECT_EQ(calls_seen, 2);
    EXPECT_EQ(pages.stats().free_frames, free_before + 3);
    for (Page* p : frames) EXPECT_EQ(p->state, Page::State::kFree);
  }
  // LIFO allocator: the last frame freed comes back first, so deferral order
  // was kept.
  EXPECT_EQ(pages.alloc(), frames[2]);
  EXPECT_EQ(pages.alloc(), frames[1]);
  EXPECT_EQ(pages.check(), nullptr);
}

TEST_F(TlbBatchTest, DestructorFlushes) {
  Page* p = pages.alloc();
  p->state = Page::State::kPageTable;
  platform.on_tlb = [&](const vmtest::FakePlatform::TlbCall&) {
    EXPECT_EQ(p->state, Page::State::kPageTable);
  };
  {
    TlbBatch b(platform, pages);
    b.invalidate_all(0x5000, cpus({0}));
    b.defer_free(p);
  }
  ASSERT_EQ(platform.tlb_calls.size(), 1u);
  EXPECT_EQ(p->state, Page::State::kFree);
}

TEST_F(TlbBatchTest, RootSwitchFreesEarlierDeferredFrames) {
  Page* p = pages.alloc();
  p->state = Page::State::kPageTable;
  TlbBatch b(platform, pages);
  b.invalidate_all(0x5000, cpus({0}));
  b.defer_free(p);
  b.invalidate(0x9000, cpus({0}), 0x1000);  // forces the 0x5000 flush
  EXPECT_EQ(p->state, Page::State::kFree);
  EXPECT_EQ(platform.tlb_calls.size(), 1u);
}

}  // namespace
