// Slab caches: allocation patterns, frames given back, and the UMA-style
// sanity checks (poison, double free, foreign pointers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "fake_platform.hpp"
#include "vm/page_allocator.hpp"
#include "vm/slab.hpp"

namespace {

using vm::Page;
using vm::SlabCache;

constexpr size_t kRam = 1 << 20;

class SlabTest : public ::testing::Test {
 protected:
  void SetUp() override { pages.init(platform, kRam, 0); }
  vmtest::FakePlatform platform{kRam};
  vm::PageAllocator pages;
};

TEST_F(SlabTest, Geometry) {
  SlabCache c("geo", 40, 8, pages, platform);
  EXPECT_EQ(c.object_size(), 40u);
  EXPECT_EQ(c.stride(), 40u);
  EXPECT_GT(c.objects_per_frame(), 90u);
  SlabCache big("big", 3000, 64, pages, platform);
  EXPECT_EQ(big.stride(), 3008u);
  EXPECT_EQ(big.objects_per_frame(), 1u);
  SlabCache tiny("tiny", 1, 1, pages, platform);
  EXPECT_EQ(tiny.stride(), 8u);
  EXPECT_LE(tiny.objects_per_frame(), vm::SlabPage::kMaxObjects);
}

TEST_F(SlabTest, AllocFreeReturnsFrames) {
  SlabCache c("obj", 100, 16, pages, platform);
  const vm::u64 free0 = pages.stats().free_frames;
  const unsigned per = c.objects_per_frame();
  std::vector<void*> objs;
  std::set<void*> distinct;
  for (unsigned i = 0; i < per * 3 + 1; ++i) {
    void* p = c.alloc();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    EXPECT_TRUE(distinct.insert(p).second);
    std::memset(p, 0x11 * (i % 7), c.object_size());  // use every byte
    Page* frame = pages.page_containing(p);
    ASSERT_NE(frame, nullptr);
    EXPECT_EQ(frame->state, Page::State::kSlab);
    objs.push_back(p);
  }
  EXPECT_EQ(c.stats().frames, 4u);
  EXPECT_EQ(c.stats().in_use, per * 3 + 1);
  EXPECT_EQ(pages.stats().free_frames, free0 - 4);
  EXPECT_EQ(c.check(), nullptr);
  for (void* p : objs) c.free(p);
  EXPECT_EQ(c.stats().in_use, 0u);
  EXPECT_EQ(c.stats().frames, 1u);  // one empty frame stays cached
  EXPECT_EQ(pages.stats().free_frames, free0 - 1);
  EXPECT_EQ(c.check(), nullptr);
  c.destroy();
  EXPECT_EQ(c.stats().frames, 0u);
  EXPECT_EQ(pages.stats().free_frames, free0);
  EXPECT_EQ(pages.check(), nullptr);
}

TEST_F(SlabTest, FreshObjectsArePoisonedAndReuseIsDeterministic) {
  SlabCache c("obj", 64, 8, pages, platform);
  auto* a = static_cast<vm::u8*>(c.alloc());
  for (size_t i = 0; i < 64; ++i) ASSERT_EQ(a[i], SlabCache::kPoison);
  void* b = c.alloc();
  EXPECT_EQ(static_cast<vm::u8*>(b), a + 64);  // lowest free object first
  c.free(a);
  EXPECT_EQ(c.alloc(), a);  // the lowest free object again
}

TEST_F(SlabTest, RandomPatternKeepsInvariants) {
  SlabCache c("rand", 200, 8, pages, platform);
  std::mt19937 rng(5);
  std::vector<void*> live;
  for (int op = 0; op < 4000; ++op) {
    if (live.empty() || rng() % 3 != 0) {
      void* p = c.alloc();
      if (p == nullptr) continue;
      std::memset(p, op & 0xff, 200);
      live.push_back(p);
    } else {
      const size_t k = rng() % live.size();
      c.free(live[k]);
      live.erase(live.begin() + k);
    }
    if (op % 97 == 0) {
      ASSERT_EQ(c.check(), nullptr) << op;
    }
    ASSERT_EQ(c.stats().in_use, live.size());
  }
  EXPECT_EQ(c.check(), nullptr);
  EXPECT_EQ(pages.check(), nullptr);
  for (void* p : live) c.free(p);
  c.destroy();
  EXPECT_EQ(pages.stats().in_use, 0u);
}

TEST_F(SlabTest, OutOfFramesReturnsNull) {
  SlabCache c("hog", 2048, 8, pages, platform);
  std::vector<void*> objs;
  while (void* p = c.alloc()) objs.push_back(p);
  EXPECT_EQ(pages.stats().free_frames, 0u);
  EXPECT_EQ(c.stats().failed, 1u);
  EXPECT_EQ(c.check(), nullptr);
  c.free(objs.back());
  EXPECT_NE(c.alloc(), nullptr);
}

TEST_F(SlabTest, UseAfterFreeDetectedAtNextAlloc) {
  SlabCache c("vm_object", 96, 8, pages, platform);
  auto* a = static_cast<vm::u8*>(c.alloc());
  c.free(a);
  a[17] = 0;  // write through a stale pointer
  EXPECT_STREQ(c.check(), "slab.poison");
  char want[96];
  std::snprintf(want, sizeof want,
                "slab vm_object: use after free: free object modified at phys 0x%llx (byte 17)",
                (unsigned long long)(pages.phys(pages.page_containing(a)) +
                                     (a - pages.data(pages.page_containing(a)))));
  EXPECT_PANIC(c.alloc(), want);
}

TEST_F(SlabTest, DoubleFreePanics) {
  SlabCache c("region", 48, 8, pages, platform);
  void* a = c.alloc();
  void* b = c.alloc();
  c.free(a);
  EXPECT_PANIC(c.free(a), "slab region: double free at phys 0x");
  (void)b;
}

TEST_F(SlabTest, DoubleFreeInCachedEmptyFramePanics) {
  SlabCache c("region", 48, 8, pages, platform);
  void* a = c.alloc();
  c.free(a);  // the frame is now the cached empty one
  EXPECT_PANIC(c.free(a), "double free");
}

TEST_F(SlabTest, ForeignPointersPanic) {
  SlabCache c("mine", 48, 8, pages, platform);
  SlabCache other("other", 48, 8, pages, platform);
  auto* a = static_cast<vm::u8*>(c.alloc());
  void* o = other.alloc();
  int local = 0;
  EXPECT_PANIC(c.free(&local), "slab mine: free of a pointer not from a slab");
  EXPECT_PANIC(c.free(o), "slab mine: free of a pointer from another cache");
  EXPECT_PANIC(c.free(a + 8), "not at an object boundary");
  // Inside the frame, in the header.
  EXPECT_PANIC(c.free(pages.data(pages.page_containing(a))), "not at an object boundary");
  // A frame of RAM that is not a slab at all.
  Page* plain = pages.alloc();
  plain->state = Page::State::kObject;
  EXPECT_PANIC(c.free(pages.data(plain) + 64), "not from a slab");
}

TEST_F(SlabTest, DestroyWithLiveObjectsPanics) {
  SlabCache c("leaky", 32, 8, pages, platform);
  c.alloc();
  c.alloc();
  EXPECT_PANIC(c.destroy(), "slab leaky: destroy with 2 objects in use");
}

TEST_F(SlabTest, ObjectTooLargePanics) {
  SlabCache c;
  EXPECT_PANIC(c.init("huge", 4096, 8, pages, platform), "slab huge: object too large");
}

struct Widget {
  static int live;
  explicit Widget(int v, const char* n) : value(v), name(n) { ++live; }
  ~Widget() { --live; }
  int value;
  const char* name;
  alignas(32) char pad[40] = {};
};
int Widget::live = 0;

TEST_F(SlabTest, TypedSlabConstructsAndDestroys) {
  vm::TypedSlab<Widget> s;
  s.init("widget", pages, platform);
  EXPECT_EQ(s.cache().stride() % 32, 0u);
  Widget* w = s.create(7, "seven");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w) % 32, 0u);
  EXPECT_EQ(w->value, 7);
  EXPECT_STREQ(w->name, "seven");
  EXPECT_EQ(Widget::live, 1);
  EXPECT_EQ(s.stats().in_use, 1u);
  s.destroy(w);
  s.destroy(nullptr);
  EXPECT_EQ(Widget::live, 0);
  EXPECT_EQ(s.stats().in_use, 0u);
  EXPECT_EQ(s.check(), nullptr);
}

}  // namespace
