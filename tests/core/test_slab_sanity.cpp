// Slab sanity (vm/slab_sanity.hpp): slab frames are read-only to the kernel
// outside USE(); what opens them, how uses nest, and how a trapped write is
// described.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "fake_platform.hpp"
#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "locker.hpp"
#include "vm/page_allocator.hpp"
#include "vm/slab.hpp"
#include "vm/slab_sanity.hpp"

namespace {

constexpr size_t kRam = 1 << 20;

// Remembers which frames the core wants writable.
class ProtectingPlatform : public vmtest::FakePlatform {
 public:
  ProtectingPlatform() : FakePlatform(kRam) {}
  bool can_protect_frames() override { return true; }
  void protect_frame(vm::paddr_t pa, bool writable) override {
    writable_[pa] = writable;
    ++calls;
  }
  bool writable(vm::paddr_t pa) const {
    auto it = writable_.find(pa);
    return it == writable_.end() || it->second;
  }
  int calls = 0;

 private:
  std::map<vm::paddr_t, bool> writable_;
};

struct Thing {
  vm::u64 value = 0;
  vm::ListNode link;
  vm::Mutex lock{"thing"};
};

class SlabSanityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pages.init(platform, kRam, 0);
    ASSERT_TRUE(sanity.enable(pages, platform));
    things.init("thing", pages, platform);
  }
  vm::paddr_t frame_of(const void* p) { return pages.phys(pages.page_containing(p)); }

  ProtectingPlatform platform;
  vm::PageAllocator pages;
  vm::SlabSanity sanity;
  vm::TypedSlab<Thing> things;
};

TEST_F(SlabSanityTest, FramesAreReadOnlyOutsideUses) {
  Thing* a = things.create();
  ASSERT_NE(a, nullptr);
  const vm::paddr_t frame = frame_of(a);
  EXPECT_FALSE(platform.writable(frame));
  {
    vm::UseScope outer(a);
    EXPECT_TRUE(platform.writable(frame));
    {
      vm::UseScope inner(a);  // nests
      a->value = 1;
    }
    EXPECT_TRUE(platform.writable(frame));
  }
  EXPECT_FALSE(platform.writable(frame));
  things.destroy(a);
}

TEST_F(SlabSanityTest, AHeldLockInsideAnObjectIsItsUse) {
  Thing* a = things.create();
  const vm::paddr_t frame = frame_of(a);
  {
    vm::MutexLocker hold(platform, a->lock);
    EXPECT_TRUE(platform.writable(frame));
  }
  EXPECT_FALSE(platform.writable(frame));
  things.destroy(a);
}

TEST_F(SlabSanityTest, ListsOpenTheNodesTheyRelinkAndCloseThemAgain) {
  vm::List<Thing, &Thing::link> list;
  Thing* a = things.create();
  Thing* b = things.create();
  const int before = platform.calls;
  list.push_back(a);
  list.push_back(b);  // writes a's node too
  list.remove(a);
  EXPECT_GT(platform.calls, before);
  EXPECT_FALSE(platform.writable(frame_of(a)));
  list.remove(b);
  things.destroy(a);
  things.destroy(b);
}

TEST_F(SlabSanityTest, ATrappedWriteNamesTheCacheAndTheObject) {
  Thing* a = things.create();
  Thing* b = things.create();
  const vm::paddr_t pa =
      frame_of(b) + (reinterpret_cast<vm::u8*>(b) - pages.data(pages.page_containing(b)));
  EXPECT_EQ(sanity.violation(), nullptr);
  ASSERT_TRUE(sanity.write_trapped(pa + 4));
  ASSERT_NE(sanity.violation(), nullptr);
  const std::string why = sanity.violation();
  EXPECT_NE(why.find("slab thing: write without USE() to object 1 at phys"), std::string::npos)
      << why;
  EXPECT_NE(why.find("(byte 4)"), std::string::npos) << why;
  EXPECT_TRUE(platform.writable(frame_of(b)));  // opened so the write completes
  things.destroy(a);
  things.destroy(b);
}

TEST_F(SlabSanityTest, WritesOutsideSlabFramesAreNotOurs) {
  vm::Page* page = pages.alloc();
  ASSERT_NE(page, nullptr);
  EXPECT_FALSE(sanity.write_trapped(pages.phys(page)));
  EXPECT_EQ(sanity.violation(), nullptr);
  pages.free(page);
}

TEST_F(SlabSanityTest, AFrameGivenBackIsWritableAgain) {
  Thing* a = things.create();
  const vm::paddr_t frame = frame_of(a);
  things.destroy(a);
  things.cache().drain();
  EXPECT_TRUE(platform.writable(frame));
}

}  // namespace
