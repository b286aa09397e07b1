// The fault around page-in I/O and forced faults: which locks are held
// where, and what the fault does when the map changed while it slept.
#include <gtest/gtest.h>

#include <algorithm>

#include "hook_platform.hpp"
#include "sys/kernel.hpp"
#include "vm/mutation.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace {

using vm::Status;
using vm::YieldPoint;

constexpr size_t kRam = 8 << 20;
constexpr vm::u64 kPage = 4096;

class FaultPageInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(kernel_.boot(kRam, 0), Status::kOk);
    proc_ = kernel_.create_process("p");
    file_ = kernel_.create_file("f", 2 * kPage, 7);
    platform_.disk[{7, 0}].fill(0xaa);
    platform_.disk[{7, 1}].fill(0xbb);
  }
  void TearDown() override { kernel_.destroy_all(); }

  vm::AddressSpace& as() { return *proc_->as; }
  vm::vaddr_t map_file(vm::Prot prot, vm::Share share) {
    vm::MmapRequest req;
    req.len = 2 * kPage;
    req.prot = prot;
    req.share = share;
    req.file = file_;
    vm::vaddr_t start = 0;
    EXPECT_EQ(vm::vm_mmap(kernel_.vm, as(), req, &start), Status::kOk);
    return start;
  }
  bool mapped(vm::vaddr_t va) {
    vm::paddr_t pa = 0;
    return as().pmap.extract(va, &pa, nullptr);
  }

  vmtest::HookPlatform platform_{kRam};
  vm::Kernel kernel_{platform_};
  vm::Process* proc_ = nullptr;
  vm::Vnode* file_ = nullptr;
};

// Regression: a fault on a private file mapping paged the file in under the
// lock of the mapping's shadow object only, and inserted the page into the
// file's object without that object's lock.
TEST_F(FaultPageInTest, PageInOfAPrivateMappingTakesTheFileObjectsLock) {
  const vm::vaddr_t va = map_file(vm::kProtRead, vm::Share::kPrivate);
  const vm::Mutex* shadow_lock = &vm::vm_map_lookup(as(), va)->object->lock;
  const vm::Mutex* file_lock = &file_->object->lock;
  ASSERT_NE(shadow_lock, file_lock);
  size_t locked_before_io = 0;
  platform_.at(YieldPoint::kFaultPagerIo, [&] { locked_before_io = platform_.locked.size(); });
  platform_.locked.clear();
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kRead), vm::FaultResult::kResolved);
  ASSERT_GT(locked_before_io, 0u);
  const auto first = platform_.locked.begin();
  const auto io = first + static_cast<long>(locked_before_io);
  EXPECT_NE(std::find(first, io, file_lock), io) << "the page went into the file's object "
                                                    "without the file object's lock";
  // Taken below the shadow's, in the chain's order.
  EXPECT_LT(std::find(first, io, shadow_lock) - first, std::find(first, io, file_lock) - first);
}

// Regression: the fault held the map lock through the page-in I/O (FreeBSD
// drops it before calling the pager). Now nothing is held at fault.pager_io:
// another thread of the process unmaps the range meanwhile, and the fault,
// back from the read, sees the map changed, starts over and answers SIGSEGV.
TEST_F(FaultPageInTest, MunmapDuringPageInMakesTheFaultStartOver) {
  const vm::vaddr_t va = map_file(vm::kProtRead, vm::Share::kShared);
  bool ran = false;
  platform_.at(YieldPoint::kFaultPagerIo, [&] {
    EXPECT_FALSE(vmtest::HookPlatform::held(as().lock)) << "map lock held through page-in I/O";
    EXPECT_FALSE(vmtest::HookPlatform::held(file_->object->lock));
    ASSERT_EQ(vm::vm_munmap(kernel_.vm, as(), va, 2 * kPage), Status::kOk);
    ran = true;
  });
  EXPECT_EQ(vm::vm_fault(kernel_.vm, as(), va + kPage, vm::Access::kRead), vm::FaultResult::kSegv);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(mapped(va + kPage));
  // The page read in stays in the file's page cache.
  EXPECT_NE(vm::vm_object_lookup(file_->object, 1), nullptr);
}

TEST_F(FaultPageInTest, PageinNoRevalidateMapsThePageIntoTheRangeThatIsGone) {
  kernel_.vm.mutations |= vm::mutation_bit(vm::Mutation::kPageinNoRevalidate);
  const vm::vaddr_t va = map_file(vm::kProtRead, vm::Share::kShared);
  platform_.at(YieldPoint::kFaultPagerIo,
               [&] { ASSERT_EQ(vm::vm_munmap(kernel_.vm, as(), va, 2 * kPage), Status::kOk); });
  EXPECT_EQ(vm::vm_fault(kernel_.vm, as(), va + kPage, vm::Access::kRead),
            vm::FaultResult::kResolved);
  EXPECT_TRUE(mapped(va + kPage));  // a translation outside every region
  EXPECT_EQ(vm::vm_map_lookup(as(), va + kPage), nullptr);
}

// Regression: poke made its private copy with a copy-on-write path of its
// own that never passed cow.copy. A forced write now goes through the fault
// path: the copy is made at cow.copy, with the locks dropped.
TEST_F(FaultPageInTest, PokeIntoAPrivateFileMappingCopiesAtCowCopy) {
  const vm::vaddr_t va = map_file(vm::kProtRead, vm::Share::kPrivate);
  bool at_copy = false;
  platform_.at(YieldPoint::kCowCopy, [&] {
    at_copy = true;
    EXPECT_FALSE(vmtest::HookPlatform::held(as().lock));
  });
  ASSERT_EQ(kernel_.poke(proc_, va + 8, 1, 0x42), Status::kOk);
  EXPECT_TRUE(at_copy);
  EXPECT_EQ(kernel_.vm.stats.cow_copies.load(), 1u);
  const vm::Region* r = vm::vm_map_lookup(as(), va);
  vm::Page* own = vm::vm_object_lookup(r->object, r->index_of(va));
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(kernel_.vm.pages.data(own)[8], 0x42);
  EXPECT_EQ(kernel_.vm.pages.data(vm::vm_object_lookup(file_->object, 0))[8], 0xaa);
  // The mapping is read-only: the copy is mapped without write permission.
  vm::paddr_t pa = 0;
  vm::PteAttrs attrs;
  ASSERT_TRUE(as().pmap.extract(va, &pa, &attrs));
  EXPECT_EQ(vm::page_trunc(pa), kernel_.vm.pages.phys(own));
  EXPECT_FALSE(attrs.writable);
}

}  // namespace
