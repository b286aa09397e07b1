// The page busy lock (vm/page.hpp): shared and exclusive holds taken in one
// atomic step, copy-on-write copies of one backing page from two address
// spaces at once, and objects never freed with a busy page.
#include <gtest/gtest.h>

#include "hook_platform.hpp"
#include "sys/kernel.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_object.hpp"

namespace {

using vm::Page;
using vm::Status;

constexpr size_t kRam = 8 << 20;
constexpr vm::u64 kPage = 4096;

TEST(PageBusy, ExclusiveExcludesEveryoneSharedExcludesOnlyExclusive) {
  vmtest::FakePlatform platform(kRam);
  Page page;
  EXPECT_FALSE(vm::page_busied(&page));
  ASSERT_TRUE(vm::page_try_xbusy(&page));
  EXPECT_TRUE(vm::page_xbusied(&page));
  EXPECT_FALSE(vm::page_try_xbusy(&page));
  EXPECT_FALSE(vm::page_try_sbusy(&page));
  vm::page_xunbusy(platform, &page);
  EXPECT_FALSE(vm::page_busied(&page));

  ASSERT_TRUE(vm::page_try_sbusy(&page));
  ASSERT_TRUE(vm::page_try_sbusy(&page));  // two copiers at once
  EXPECT_FALSE(vm::page_xbusied(&page));
  EXPECT_FALSE(vm::page_try_xbusy(&page));
  vm::page_sunbusy(platform, &page);
  EXPECT_TRUE(vm::page_busied(&page));  // the second copier still holds it
  vm::page_sunbusy(platform, &page);
  EXPECT_FALSE(vm::page_busied(&page));
  EXPECT_TRUE(vm::page_try_xbusy(&page));
}

TEST(PageBusy, UnbusyOfAPageNotHeldPanics) {
  vmtest::FakePlatform platform(kRam);
  Page page;
  EXPECT_PANIC(vm::page_sunbusy(platform, &page), "not held shared");
  EXPECT_PANIC(vm::page_xunbusy(platform, &page), "not held exclusively");
}

class BusyKernelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(kernel_.boot(kRam, 0), Status::kOk); }
  void TearDown() override {
    platform_.on_wait = [](const void*) {};
    kernel_.destroy_all();
  }

  vmtest::HookPlatform platform_{kRam};
  vm::Kernel kernel_{platform_};
};

// Regression: the busy flag was tested in one step (the chain walk) and set
// in another (the copy), so two CPUs copying one backing page for two
// address spaces could both pass, and the first to finish cleared the flag
// while the second still copied. Here a child's copy is stopped at cow.copy
// and the parent copies the same backing page meanwhile: the parent's copy
// goes ahead (shared hold; it must not sleep), and when it is done the page
// is still busy for the child.
TEST_F(BusyKernelTest, TwoAddressSpacesCopyOneBackingPageAndItStaysBusyUntilBothAreDone) {
  vm::Process* parent = kernel_.create_process("p");
  vm::MmapRequest req;
  req.len = kPage;
  req.prot = vm::kProtRead | vm::kProtWrite;
  vm::vaddr_t va = 0;
  ASSERT_EQ(vm::vm_mmap(kernel_.vm, *parent->as, req, &va), Status::kOk);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, *parent->as, va, vm::Access::kWrite),
            vm::FaultResult::kResolved);
  vm::paddr_t pa = 0;
  ASSERT_TRUE(parent->as->pmap.extract(va, &pa, nullptr));
  Page* source = kernel_.vm.pages.page_of(vm::page_trunc(pa));
  vm::Process* child = nullptr;
  ASSERT_EQ(kernel_.fork_process(parent, "c", &child), Status::kOk);

  bool parent_done = false;
  bool busy_after_parent = false;
  platform_.at(vm::YieldPoint::kCowCopy, [&] {
    EXPECT_TRUE(vm::page_busied(source));
    // The parent's write fault, on another CPU, while the child copies.
    EXPECT_EQ(vm::vm_fault(kernel_.vm, *parent->as, va, vm::Access::kWrite),
              vm::FaultResult::kResolved);
    parent_done = true;
    busy_after_parent = vm::page_busied(source);
  });
  ASSERT_EQ(vm::vm_fault(kernel_.vm, *child->as, va, vm::Access::kWrite),
            vm::FaultResult::kResolved);
  EXPECT_TRUE(parent_done);
  EXPECT_TRUE(busy_after_parent) << "the parent's copy ended the child's busy hold";
  EXPECT_TRUE(platform_.waits.empty());
  EXPECT_FALSE(vm::page_busied(source));
  EXPECT_EQ(kernel_.vm.stats.cow_copies.load(), 2u);
}

// Regression: vm_object_deallocate skipped busy pages when it freed an
// object, and freed the object under them. The last reference now waits
// until the owner is done with the page, then frees it with the object.
TEST_F(BusyKernelTest, TheLastReferenceWaitsForABusyPageBeforeFreeingTheObject) {
  vm::Vm& v = kernel_.vm;
  const vm::u64 frames_before = v.pages.stats().in_use;
  vm::VmObject* object = vm::vm_object_allocate(v, vm::VmObject::Kind::kAnonymous, 4);
  Page* page = v.pages.alloc_zeroed();
  vm::vm_object_insert_busy(v, object, page, 2);  // a page-in or a copy in flight
  platform_.on_wait = [&](const void* channel) {
    EXPECT_EQ(channel, page);
    EXPECT_EQ(page->object, object);    // still the object's
    vm::page_xunbusy(platform_, page);  // the owner finishes
  };
  {
    vm::TlbBatch batch(platform_, v.pages);
    vm::vm_object_deallocate(v, object, batch);
  }
  ASSERT_EQ(platform_.waits.size(), 1u);
  EXPECT_TRUE(v.all_objects.empty());
  EXPECT_EQ(page->state, Page::State::kFree);
  EXPECT_LE(v.pages.stats().in_use, frames_before + 1);  // a slab frame may stay cached
}

}  // namespace
