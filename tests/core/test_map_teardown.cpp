// Address-space lifetime: the teardown takes the map lock itself, and the
// users count survives holders on several CPUs at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "hook_platform.hpp"
#include "sys/kernel.hpp"
#include "vm/vm_fault.hpp"

namespace {

using vm::Status;

constexpr size_t kRam = 8 << 20;
constexpr vm::u64 kPage = 4096;

class MapTeardownTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(kernel_.boot(kRam, 0), Status::kOk); }
  void TearDown() override { kernel_.destroy_all(); }

  vmtest::HookPlatform platform_{kRam};
  vm::Kernel kernel_{platform_};
};

// Regression: the teardown of an address space ran without its map lock,
// relying on the runners to keep every other thread out. Now it holds the
// lock while regions and page tables go: an op of another thread on the
// same space would block there (the platform fails the test if it is
// taken), and the teardown is seen whole or not at all.
TEST_F(MapTeardownTest, TeardownHoldsTheMapLockWhileRegionsGo) {
  vm::Process* p = kernel_.create_process("p");
  vm::AddressSpace* as = p->as;
  vm::MmapRequest req;
  req.len = 2 * kPage;
  req.prot = vm::kProtRead | vm::kProtWrite;
  vm::vaddr_t va = 0;
  ASSERT_EQ(vm::vm_mmap(kernel_.vm, *as, req, &va), Status::kOk);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, *as, va, vm::Access::kWrite), vm::FaultResult::kResolved);
  as->pmap.activate(1);  // CPU 1 runs it: the teardown's flush is sent
  bool checked = false;
  platform_.at(vm::YieldPoint::kTlbShootdown, [&] {
    checked = true;
    EXPECT_TRUE(vmtest::HookPlatform::held(as->lock)) << "teardown without the map lock";
    EXPECT_TRUE(as->dying);
  });
  kernel_.destroy_process(p);
  EXPECT_TRUE(checked);
}

// A holder (poke, truncate: another process) keeps the space past its
// process: the teardown runs at the last release, under the map lock too.
TEST_F(MapTeardownTest, TheLastHolderTearsDownUnderTheMapLock) {
  vm::Process* p = kernel_.create_process("p");
  vm::AddressSpace* as = p->as;
  vm::MmapRequest req;
  req.len = kPage;
  req.prot = vm::kProtRead | vm::kProtWrite;
  vm::vaddr_t va = 0;
  ASSERT_EQ(vm::vm_mmap(kernel_.vm, *as, req, &va), Status::kOk);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, *as, va, vm::Access::kWrite), vm::FaultResult::kResolved);
  as->pmap.activate(1);
  vm::vm_map_hold(kernel_.vm, as);
  const vm::u64 regions = kernel_.vm.stats.regions.load();
  kernel_.destroy_process(p);
  EXPECT_TRUE(as->dying);
  EXPECT_EQ(kernel_.vm.stats.regions.load(), regions);  // still whole for the holder
  bool checked = false;
  platform_.at(vm::YieldPoint::kTlbShootdown, [&] {
    checked = true;
    EXPECT_TRUE(vmtest::HookPlatform::held(as->lock));
  });
  vm::vm_map_release(kernel_.vm, as);
  EXPECT_TRUE(checked);
  EXPECT_EQ(kernel_.vm.stats.regions.load(), 0u);
}

// Regression: the hold count was updated with plain ++/-- by threads of
// different processes (poke, truncate) on different CPUs; a lost update
// tears the space down under a holder or never. Four host threads hold and
// release at once; the count must come back to the process's own 1.
TEST_F(MapTeardownTest, HoldsFromManyCpusAtOnceAreAllCounted) {
  vm::Process* p = kernel_.create_process("p");
  vm::AddressSpace* as = p->as;
  constexpr int kThreads = 4;
  constexpr int kRounds = 1000000;
  // All threads start together, so their updates overlap.
  auto run = [&](auto op) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        for (int i = 0; i < kRounds; ++i) op();
      });
    }
    for (std::thread& t : threads) t.join();
  };
  run([&] { vm::vm_map_hold(kernel_.vm, as); });
  EXPECT_EQ(as->users.load(), 1u + kThreads * kRounds);
  run([&] { vm::vm_map_release(kernel_.vm, as); });
  EXPECT_EQ(as->users.load(), 1u);
}

}  // namespace
