// The physical page allocator over a fake RAM buffer.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "fake_platform.hpp"
#include "vm/page_allocator.hpp"

namespace {

using vm::AllocClass;
using vm::Page;
using vm::PageAllocator;

constexpr size_t kRam = 1 << 20;  // 256 frames
constexpr vm::u64 kFrames = kRam / 4096;
constexpr vm::u64 kBootFrames = (kFrames * sizeof(Page) + 4095) / 4096;

class PageAllocatorTest : public ::testing::Test {
 protected:
  vmtest::FakePlatform platform{kRam};
  PageAllocator pages;
};

TEST_F(PageAllocatorTest, BootCarve) {
  pages.init(platform, kRam, 8);
  const auto& s = pages.stats();
  EXPECT_EQ(s.total_frames, kFrames);
  EXPECT_EQ(s.boot_frames, kBootFrames);
  EXPECT_EQ(s.free_frames, kFrames - kBootFrames);
  EXPECT_EQ(s.in_use, 0u);
  EXPECT_EQ(pages.frame_count(), kFrames);
  EXPECT_EQ(pages.reserved_frames(), 8u);
  // Only the boot frames' descriptors are built; the others wait for
  // their first allocation (the fake RAM is 0xcc there, untouched).
  EXPECT_EQ(pages.described_frames(), kBootFrames);
  for (vm::u64 pfn = 0; pfn < kBootFrames; ++pfn)
    EXPECT_EQ(pages.page_at(pfn)->state, Page::State::kBoot);
  EXPECT_EQ(static_cast<vm::u8>(pages.page_at(kBootFrames)->state), 0xcc);
  EXPECT_EQ(pages.page_of(kBootFrames * 4096), nullptr) << "never handed out";
  // The Page array lives in the boot frames.
  EXPECT_EQ(reinterpret_cast<vm::u8*>(pages.page_at(0)), platform.ram());
  EXPECT_EQ(pages.check(), nullptr);
}

bool filled_with(const vm::u8* p, size_t n, vm::u8 byte) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != byte) return false;
  return true;
}

// RAM that is not zero at boot (the fake's is 0xcc): every zeroed frame
// and block is cleared.
TEST(PageAllocatorZero, GarbageRamIsCleared) {
  vmtest::FakePlatform platform{4 << 20};
  PageAllocator pages;
  pages.init(platform, 4 << 20, 0);
  Page* page = pages.alloc_zeroed();
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(filled_with(pages.data(page), 4096, 0));
  Page* block = pages.alloc_block_zeroed();
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(filled_with(pages.data(block), 512 * 4096, 0));
}

// RAM the platform says is zero at boot: a frame never handed out is not
// cleared (the fake lies, so its 0xcc shows that no clear happened), and a
// frame used before always is.
TEST(PageAllocatorZero, NeverUsedFramesAreNotClearedAgain) {
  vmtest::FakePlatform platform{4 << 20};
  platform.ram_zero = true;
  PageAllocator pages;
  pages.init(platform, 4 << 20, 0);
  Page* fresh = pages.alloc_zeroed();
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(filled_with(pages.data(fresh), 4096, 0xcc)) << "a never-used frame was cleared";
  pages.free(fresh);
  Page* again = pages.alloc_zeroed();
  ASSERT_EQ(again, fresh) << "the freed frame comes back first";
  EXPECT_TRUE(filled_with(pages.data(again), 4096, 0));
  pages.free(again);

  Page* block = pages.alloc_block_zeroed();
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(filled_with(pages.data(block), 512 * 4096, 0xcc));
  for (int i = 0; i < 512; ++i) pages.data(block)[i * 4096 + 7] = 0x11;
  for (int i = 0; i < 512; ++i) pages.free(block + i);
  Page* reused = pages.alloc_block_zeroed();
  ASSERT_EQ(reused, block) << "the block that became whole last comes back";
  EXPECT_TRUE(filled_with(pages.data(reused), 512 * 4096, 0));
  EXPECT_EQ(pages.check(), nullptr);
}

TEST_F(PageAllocatorTest, AddressConversions) {
  pages.init(platform, kRam, 0);
  Page* p = pages.alloc();
  ASSERT_NE(p, nullptr);
  const vm::paddr_t pa = pages.phys(p);
  EXPECT_EQ(pa, kBootFrames * 4096);  // lowest free frame first
  EXPECT_EQ(pages.page_of(pa), p);
  EXPECT_EQ(pages.page_of(pa + 123), p);
  EXPECT_EQ(pages.page_of(kRam), nullptr);
  EXPECT_EQ(pages.data(p), platform.ram() + pa);
  EXPECT_EQ(pages.page_containing(pages.data(p) + 4095), p);
  EXPECT_EQ(pages.page_containing(platform.ram() + kRam), nullptr);
  int local;
  EXPECT_EQ(pages.page_containing(&local), nullptr);
}

TEST_F(PageAllocatorTest, AllocUntilExhaustionAndReservedPool) {
  constexpr vm::u64 kReserved = 4;
  pages.init(platform, kRam, kReserved);
  const vm::u64 normal = kFrames - kBootFrames - kReserved;
  std::set<Page*> got;
  for (vm::u64 i = 0; i < normal; ++i) {
    Page* p = pages.alloc();
    ASSERT_NE(p, nullptr) << i;
    EXPECT_EQ(p->state, Page::State::kAllocated);
    EXPECT_TRUE(got.insert(p).second);
  }
  // Only the reserve is left: kNormal fails, kReserved succeeds until empty.
  EXPECT_EQ(pages.alloc(), nullptr);
  EXPECT_EQ(pages.alloc_zeroed(AllocClass::kNormal), nullptr);
  EXPECT_EQ(pages.stats().failed, 2u);
  for (vm::u64 i = 0; i < kReserved; ++i) {
    Page* p = pages.alloc(AllocClass::kReserved);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(got.insert(p).second);
  }
  EXPECT_EQ(pages.alloc(AllocClass::kReserved), nullptr);
  EXPECT_EQ(pages.stats().free_frames, 0u);
  EXPECT_EQ(pages.stats().in_use, kFrames - kBootFrames);
  EXPECT_EQ(pages.stats().peak_in_use, kFrames - kBootFrames);
  EXPECT_EQ(pages.check(), nullptr);
  // Freeing one makes it available to kReserved only (still inside the reserve).
  pages.free(*got.begin());
  EXPECT_EQ(pages.alloc(), nullptr);
  EXPECT_NE(pages.alloc(AllocClass::kReserved), nullptr);
  EXPECT_EQ(pages.check(), nullptr);
}

TEST_F(PageAllocatorTest, ReservedClampedToFree) {
  pages.init(platform, kRam, 1u << 30);
  EXPECT_EQ(pages.reserved_frames(), kFrames - kBootFrames);
  EXPECT_EQ(pages.alloc(), nullptr);
  EXPECT_NE(pages.alloc(AllocClass::kReserved), nullptr);
}

TEST_F(PageAllocatorTest, FreeResetsTheDescriptor) {
  pages.init(platform, kRam, 0);
  Page* p = pages.alloc_zeroed();
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(pages.data(p)[i], 0) << i;
  p->state = Page::State::kObject;
  p->index = 77;
  p->busy.store(Page::kBusyExclusive);
  pages.free(p);
  EXPECT_EQ(p->state, Page::State::kFree);
  EXPECT_EQ(p->index, 0u);
  EXPECT_EQ(p->busy.load(), 0u);
  EXPECT_EQ(pages.stats().frees, 1u);
  EXPECT_EQ(pages.check(), nullptr);
}

// The same calls give the same frames, on two allocators and after frees.
TEST_F(PageAllocatorTest, Deterministic) {
  vmtest::FakePlatform platform2{kRam};
  PageAllocator pages2;
  pages.init(platform, kRam, 2);
  pages2.init(platform2, kRam, 2);
  std::vector<vm::paddr_t> a, b;
  auto run = [](PageAllocator& pa, std::vector<vm::paddr_t>& out) {
    std::vector<Page*> held;
    for (int round = 0; round < 50; ++round) {
      for (int i = 0; i < 7; ++i) {
        Page* p = pa.alloc();
        if (p == nullptr) break;
        held.push_back(p);
        out.push_back(pa.phys(p));
      }
      for (size_t i = round % 3; i < held.size(); i += 3) {
        pa.free(held[i]);
        held.erase(held.begin() + i);
      }
    }
  };
  run(pages, a);
  run(pages2, b);
  EXPECT_EQ(a, b);
  // The order itself: FreedFramesComeBeforeFreshOnes.
  EXPECT_EQ(pages.check(), nullptr);
  EXPECT_EQ(pages2.check(), nullptr);
}

TEST_F(PageAllocatorTest, DoubleFreePanics) {
  pages.init(platform, kRam, 0);
  Page* p = pages.alloc();
  const vm::paddr_t pa = pages.phys(p);
  pages.free(p);
  char want[64];
  std::snprintf(want, sizeof want, "double free of frame 0x%llx", (unsigned long long)pa);
  EXPECT_PANIC(pages.free(p), want);
}

TEST_F(PageAllocatorTest, FreeNeverAllocatedFramePanics) {
  pages.init(platform, kRam, 0);
  EXPECT_PANIC(pages.free(pages.page_at(kFrames - 1)), "not a frame descriptor");
}

// A fresh allocator hands out ascending frames and a freed frame comes back
// first, whether the descriptors were built at boot or are built at their
// frame's first allocation: the most recently freed first, then the
// never-used ones, ascending.
TEST_F(PageAllocatorTest, FreedFramesComeBeforeFreshOnes) {
  pages.init(platform, kRam, 0);
  Page* a = pages.alloc();
  Page* b = pages.alloc();
  EXPECT_EQ(pages.phys(b), pages.phys(a) + 4096);
  pages.free(a);
  EXPECT_EQ(pages.alloc(), a);
  Page* c = pages.alloc();
  EXPECT_EQ(pages.phys(c), pages.phys(b) + 4096);
  EXPECT_EQ(pages.described_frames(), kBootFrames + 3);
  EXPECT_EQ(pages.check(), nullptr);
}

TEST_F(PageAllocatorTest, FreeOfBootFramePanics) {
  pages.init(platform, kRam, 0);
  EXPECT_PANIC(pages.free(pages.page_at(0)), "free of boot frame 0x0");
}

TEST_F(PageAllocatorTest, FreeOfMappedFramePanics) {
  pages.init(platform, kRam, 0);
  Page* p = pages.alloc();
  p->state = Page::State::kObject;
  p->map_count.store(1);
  EXPECT_PANIC(pages.free(p), "free of mapped frame");
}

TEST_F(PageAllocatorTest, TooSmallRamPanics) {
  EXPECT_PANIC(pages.init(platform, 4096, 0), "RAM too small");
}

TEST_F(PageAllocatorTest, CheckFindsBrokenState) {
  pages.init(platform, kRam, 0);
  Page* p = pages.alloc();
  p->state = Page::State::kFree;  // claims free, but is not on the list
  EXPECT_STREQ(pages.check(), "page_allocator.free_unlisted");
  p->state = Page::State::kBoot;
  EXPECT_STREQ(pages.check(), "page_allocator.boot");
  p->state = Page::State::kObject;
  EXPECT_EQ(pages.check(), nullptr);
  Page* q = pages.alloc();
  pages.free(q);
  q->state = Page::State::kObject;  // a listed frame not kFree
  EXPECT_STREQ(pages.check(), "page_allocator.free_list_state");
}

}  // namespace
