// Platform::assert_held in the simulator: silent for the thread that holds
// the lock, a panic naming the lock otherwise -- also when a core function
// whose contract is "map lock held" is called without it.
#include <gtest/gtest.h>

#include <csetjmp>
#include <string>

#include "lib/mutex.hpp"
#include "locker.hpp"
#include "machine/machine.hpp"
#include "run/sim_disk.hpp"
#include "run/sim_platform.hpp"
#include "sys/kernel.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_map.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kRam = 4 << 20;

class AssertHeldTest : public ::testing::Test {
 protected:
  AssertHeldTest() : machine_(kRam, 1), disk_({}), platform_(machine_, disk_) {
    platform_.arm_panic(&panic_);
  }

  Machine machine_;
  SimDisk disk_;
  SimPlatform platform_;
  std::jmp_buf panic_;
  vm::Mutex lock_{"test_lock"};
};

TEST_F(AssertHeldTest, SilentForTheHolder) {
  platform_.set_current(0, 2);
  if (setjmp(panic_) != 0) FAIL() << "unexpected panic: " << platform_.panic_message();
  platform_.mutex_lock(lock_);
  platform_.assert_held(lock_);
  platform_.mutex_unlock(lock_);
}

TEST_F(AssertHeldTest, PanicsWhenTheLockIsFree) {
  platform_.set_current(0, 2);
  if (setjmp(panic_) == 0) {
    platform_.assert_held(lock_);
    FAIL() << "assert_held of a free lock did not panic";
  }
  EXPECT_EQ(platform_.panic_message(),
            "lock \"test_lock\" not held by the running thread (thread 2, lock free)");
}

TEST_F(AssertHeldTest, PanicsWhenAnotherThreadHoldsIt) {
  platform_.set_current(0, 3);
  platform_.mutex_lock(lock_);
  platform_.set_current(0, 5);
  if (setjmp(panic_) == 0) {
    platform_.assert_held(lock_);
    FAIL() << "assert_held of another thread's lock did not panic";
  }
  EXPECT_EQ(platform_.panic_message(),
            "lock \"test_lock\" not held by the running thread (thread 5, held by thread 3)");
}

// The core asks: vm_map_truncate_file's contract is "map lock held".
TEST_F(AssertHeldTest, CoreFunctionCalledWithoutTheMapLockPanics) {
  vm::Kernel kernel(platform_);
  ASSERT_EQ(kernel.boot(kRam, 0), vm::Status::kOk);
  vm::Process* p = kernel.create_process("p");
  ASSERT_NE(p, nullptr);
  vm::Vnode* f = kernel.create_file("f", 4096, 0);
  ASSERT_NE(f, nullptr);
  vm::TlbBatch batch(platform_, kernel.vm.pages);
  if (setjmp(panic_) == 0) {
    vm::vm_map_truncate_file(kernel.vm, *p->as, f, 0, vm::TruncatePhase::kUnmap, batch);
    FAIL() << "vm_map_truncate_file without the map lock did not panic";
  }
  EXPECT_NE(platform_.panic_message().find("lock \"vm_map\" not held"), std::string::npos)
      << platform_.panic_message();
  // With the lock it runs.
  if (setjmp(panic_) != 0) FAIL() << "unexpected panic: " << platform_.panic_message();
  vm::MutexLocker lock(platform_, p->as->lock);
  EXPECT_EQ(vm::vm_map_truncate_file(kernel.vm, *p->as, f, 0, vm::TruncatePhase::kUnmap, batch),
            nullptr);
}

}  // namespace
}  // namespace vmsim
