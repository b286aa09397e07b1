// The argument checks of the address-space calls (core/vm/vm_map.cpp) where
// Linux decides them: the order of mmap's checks, a file range past 2^63 - 1,
// mprotect and madvise past the top of user space or wrapping past 2^64, and
// brk's refusals (docs/semantics.md; the reference model agrees, tests/model).
#include <gtest/gtest.h>

#include "fake_platform.hpp"
#include "sys/kernel.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"
#include "vm/vnode.hpp"

namespace {

using vm::Status;

constexpr size_t kRam = 8 << 20;
constexpr vm::u64 kP = 4096;
constexpr vm::u64 kMax = ~vm::u64{0};
constexpr vm::vaddr_t kBreak = 0x10000000;
constexpr vm::u64 kLastOffsetOk = (vm::u64{1} << 63) - 2 * kP;  // + 1 page ends at 2^63 - 4096

class VmMapArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(kernel_.boot(kRam, 0), Status::kOk);
    proc_ = kernel_.create_process("p");
    ASSERT_NE(proc_, nullptr);
    file_ = kernel_.create_file("f", 4 * kP, 1);
    ASSERT_NE(file_, nullptr);
  }
  void TearDown() override { kernel_.destroy_all(); }

  vm::AddressSpace& as() { return *proc_->as; }

  Status mmap(vm::vaddr_t addr, vm::u64 len, bool fixed, vm::Vnode* file = nullptr,
              vm::u64 offset = 0, vm::vaddr_t* start = nullptr) {
    vm::MmapRequest req;
    req.addr = addr;
    req.has_addr = addr != 0;
    req.len = len;
    req.prot = vm::kProtRead | vm::kProtWrite;
    req.fixed = fixed;
    req.file = file;
    req.offset = offset;
    vm::vaddr_t ignored = 0;
    return vm::vm_mmap(kernel_.vm, as(), req, start != nullptr ? start : &ignored);
  }
  void map_fixed(vm::vaddr_t addr, vm::u64 len) { ASSERT_EQ(mmap(addr, len, true), Status::kOk); }
  vm::Prot prot_at(vm::vaddr_t va) {
    const vm::Region* r = vm::vm_map_lookup(as(), va);
    EXPECT_NE(r, nullptr) << std::hex << va;
    return r != nullptr ? r->prot : vm::kProtNone;
  }
  bool resident(vm::vaddr_t va) { return as().pmap.extract(va, nullptr, nullptr); }
  vm::vaddr_t current_break() {
    vm::vaddr_t old = 0;
    EXPECT_EQ(vm::vm_sbrk(kernel_.vm, as(), 0, &old), Status::kOk);
    return old;
  }

  vmtest::FakePlatform platform_{kRam};
  vm::Kernel kernel_{platform_};
  vm::Process* proc_ = nullptr;
  vm::Vnode* file_ = nullptr;
};

// Linux (do_mmap, then file_mmap_ok) says EOVERFLOW past MAX_LFS_FILESIZE.
TEST_F(VmMapArgsTest, FileRangePast2To63IsEinval) {
  EXPECT_EQ(mmap(0, kP, false, file_, kLastOffsetOk + kP), Status::kInval);
  EXPECT_EQ(mmap(0, 2 * kP, false, file_, kLastOffsetOk), Status::kInval);
  EXPECT_EQ(mmap(0x20000000, kP, true, file_, kMax - kP + 1), Status::kInval);
  EXPECT_EQ(vm::vm_map_lookup(as(), 0x20000000), nullptr);
  vm::vaddr_t start = 0;
  EXPECT_EQ(mmap(0x20000000, kP, true, file_, kLastOffsetOk, &start), Status::kOk);
  EXPECT_EQ(start, 0x20000000u);
}

TEST_F(VmMapArgsTest, MmapChecksInLinuxOrder) {
  // The offset's alignment before anything else.
  EXPECT_EQ(mmap(0, 0, false, file_, 1), Status::kInval);
  EXPECT_EQ(mmap(0, kMax, false, file_, 1), Status::kInval);
  EXPECT_EQ(mmap(vm::kUserTop, kP, true, file_, 1), Status::kInval);
  // A fixed range past the top before its alignment or its minimum.
  EXPECT_EQ(mmap(vm::kUserTop - kP + 1, 2 * kP, true), Status::kNoMem);
  EXPECT_EQ(mmap(0x123, vm::kUserTop, true), Status::kNoMem);
  EXPECT_EQ(mmap(0x20000001, kP, true), Status::kInval);
  EXPECT_EQ(mmap(0x1000, kP, true), Status::kInval);
  // The file range last: after the place.
  EXPECT_EQ(mmap(vm::kUserTop, kP, true, file_, kLastOffsetOk + kP), Status::kNoMem);
  EXPECT_EQ(mmap(0, 0x7f0000000000, false, file_, kLastOffsetOk + kP), Status::kNoMem);
  EXPECT_EQ(mmap(0x20000001, kP, true, file_, kLastOffsetOk + kP), Status::kInval);
}

TEST_F(VmMapArgsTest, MprotectPastTheTopChangesTheMappedPartThenFails) {
  const vm::vaddr_t a = vm::kUserTop - 2 * kP;
  map_fixed(a, 2 * kP);
  EXPECT_EQ(vm::vm_mprotect(kernel_.vm, as(), a, 4 * kP, vm::kProtRead), Status::kNoMem);
  EXPECT_EQ(prot_at(a), vm::kProtRead);
  EXPECT_EQ(prot_at(a + kP), vm::kProtRead);
  // A range that wraps past 2^64 changes nothing.
  EXPECT_EQ(vm::vm_mprotect(kernel_.vm, as(), a, kMax - a + 1, vm::kProtNone), Status::kNoMem);
  EXPECT_EQ(vm::vm_mprotect(kernel_.vm, as(), a, kMax, vm::kProtNone), Status::kNoMem);
  EXPECT_EQ(prot_at(a), vm::kProtRead);
}

TEST_F(VmMapArgsTest, MadvisePastTheTopAdvisesTheMappedPartThenFails) {
  const vm::vaddr_t a = vm::kUserTop - 2 * kP;
  map_fixed(a, 2 * kP);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), a, vm::Access::kWrite), vm::FaultResult::kResolved);
  ASSERT_TRUE(resident(a));
  // Wrapping past 2^64 is einval and changes nothing.
  EXPECT_EQ(vm::vm_madvise(kernel_.vm, as(), a, kMax - a + 1, vm::Advice::kDontNeed),
            Status::kInval);
  EXPECT_EQ(vm::vm_madvise(kernel_.vm, as(), a, kMax, vm::Advice::kDontNeed), Status::kInval);
  EXPECT_TRUE(resident(a));
  EXPECT_EQ(vm::vm_madvise(kernel_.vm, as(), a, 4 * kP, vm::Advice::kDontNeed), Status::kNoMem);
  EXPECT_FALSE(resident(a));
}

TEST_F(VmMapArgsTest, BrkKeepsAPageBeforeTheNextMapping) {
  map_fixed(kBreak + 3 * kP, kP);
  EXPECT_EQ(vm::vm_brk(kernel_.vm, as(), kBreak + 3 * kP), Status::kNoMem);
  EXPECT_EQ(vm::vm_brk(kernel_.vm, as(), kBreak + 2 * kP + 1), Status::kNoMem);
  EXPECT_EQ(current_break(), kBreak);
  EXPECT_EQ(vm::vm_map_lookup(as(), kBreak), nullptr);
  EXPECT_EQ(vm::vm_brk(kernel_.vm, as(), kBreak + 2 * kP), Status::kOk);
  EXPECT_EQ(current_break(), kBreak + 2 * kP);
}

TEST_F(VmMapArgsTest, BrkShrinkOverNothingMappedKeepsTheBreak) {
  ASSERT_EQ(vm::vm_brk(kernel_.vm, as(), kBreak + 4 * kP), Status::kOk);
  ASSERT_EQ(vm::vm_munmap(kernel_.vm, as(), kBreak + 2 * kP, 2 * kP), Status::kOk);
  EXPECT_EQ(vm::vm_brk(kernel_.vm, as(), kBreak + 2 * kP), Status::kNoMem);
  EXPECT_EQ(current_break(), kBreak + 4 * kP);
  ASSERT_EQ(vm::vm_brk(kernel_.vm, as(), kBreak + kP), Status::kOk);
  EXPECT_EQ(current_break(), kBreak + kP);
  EXPECT_EQ(vm::vm_map_lookup(as(), kBreak + kP), nullptr);
  EXPECT_NE(vm::vm_map_lookup(as(), kBreak), nullptr);
}

}  // namespace
