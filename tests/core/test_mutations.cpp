// Mutation switches (vm/mutation.hpp): with its bit set, each guarded
// protection is off, and the behaviour differs from the correct core's in a
// way a race trace can catch. Races are played out single-threaded: the fake
// platform runs the "other thread" at the yield point where it would run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "sys/kernel.hpp"
#include "vm/mutation.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

namespace {

using vm::Mutation;
using vm::Status;

constexpr size_t kRam = 8 << 20;
constexpr vm::u64 kPage = 4096;

// Also records frees among the TLB calls, in order, and runs a hook at
// chosen yield points (the interleaved other thread).
class RacePlatform : public vmtest::FakePlatform {
 public:
  struct Event {
    bool freed;      // a frame was freed, else a TLB invalidation was sent
    vm::paddr_t pa;  // freed frame
    vm::u64 cpus;    // invalidation: target CPUs
    vm::vaddr_t va;  // invalidation: page, 0 for a full flush
  };

  RacePlatform() : FakePlatform(kRam) {
    on_tlb = [this](const TlbCall& c) { events.push_back({false, 0, c.cpus, c.all ? 0 : c.va}); };
  }
  void frame_freed(vm::paddr_t pa) override { events.push_back({true, pa, 0, 0}); }
  void yield(vm::YieldPoint point) override {
    FakePlatform::yield(point);
    if (point == hook_point && hook) hook();
  }

  std::vector<Event> events;
  vm::YieldPoint hook_point = vm::YieldPoint::kCount;
  std::function<void()> hook;
};

class MutationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(kernel_.boot(kRam, 0), Status::kOk);
    proc_ = kernel_.create_process("p");
    ASSERT_NE(proc_, nullptr);
  }
  void TearDown() override { kernel_.destroy_all(); }

  void set(Mutation m) { kernel_.vm.mutations |= vm::mutation_bit(m); }
  vm::AddressSpace& as() { return *proc_->as; }

  vm::vaddr_t map(vm::u64 len, vm::Prot prot, vm::Share share, vm::Vnode* file = nullptr) {
    vm::MmapRequest req;
    req.len = len;
    req.prot = prot;
    req.share = share;
    req.file = file;
    vm::vaddr_t start = 0;
    EXPECT_EQ(vm::vm_mmap(kernel_.vm, as(), req, &start), Status::kOk);
    return start;
  }
  vm::paddr_t frame_of(vm::vaddr_t va) {
    vm::paddr_t pa = 0;
    EXPECT_TRUE(as().pmap.extract(va, &pa, nullptr));
    return vm::page_trunc(pa);
  }
  // A file of `pages` pages whose disk bytes are all `byte`.
  vm::Vnode* file_of(vm::u64 pages, vm::u8 byte) {
    vm::Vnode* f = kernel_.create_file("f", pages * kPage, 7);
    for (vm::u64 i = 0; i < pages; ++i) platform_.disk[{7, i}].fill(byte);
    return f;
  }
  // The byte at `offset` of the file's page cache page, or -1 if not resident.
  int cached_byte(vm::Vnode* f, vm::u64 offset) {
    vm::Page* p = vm::vm_object_lookup(f->object, offset / kPage);
    return p == nullptr ? -1 : kernel_.vm.pages.data(p)[offset % kPage];
  }

  RacePlatform platform_;
  vm::Kernel kernel_{platform_};
  vm::Process* proc_ = nullptr;
};

TEST(MutationTable, NamesAndBitsAreDistinctAndInBitOrder) {
  std::set<std::string> names;
  for (size_t i = 0; i < vm::kMutationCount; ++i) {
    const vm::MutationInfo& m = vm::kMutations[i];
    EXPECT_EQ(vm::mutation_bit(m.mutation), vm::u64{1} << i) << m.name;
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_GT(std::strlen(m.description), 10u) << m.name;
  }
  EXPECT_EQ(vm::kMutationCount, 19u);
}

// ---- munmap-early-free -------------------------------------------------------

// Where in `events` frame `pa` was freed and where CPU 1 was first told to
// drop `va` (events.size() for never).
struct FreeOrder {
  size_t freed;
  size_t invalidated;
};
FreeOrder order_of(const std::vector<RacePlatform::Event>& events, vm::paddr_t pa, vm::vaddr_t va) {
  FreeOrder o{events.size(), events.size()};
  for (size_t i = 0; i < events.size(); ++i) {
    const RacePlatform::Event& e = events[i];
    if (e.freed && e.pa == pa && o.freed == events.size()) o.freed = i;
    const bool covers = (e.cpus & 2) != 0 && (e.va == 0 || e.va == va);
    if (!e.freed && covers && o.invalidated == events.size()) o.invalidated = i;
  }
  return o;
}

TEST_F(MutationTest, MunmapFreesFramesOnlyAfterTheShootdown) {
  const vm::vaddr_t va = map(kPage, vm::kProtRead | vm::kProtWrite, vm::Share::kPrivate);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kWrite), vm::FaultResult::kResolved);
  const vm::paddr_t pa = frame_of(va);
  as().pmap.activate(1);  // CPU 1 runs this address space too
  platform_.events.clear();
  ASSERT_EQ(vm::vm_munmap(kernel_.vm, as(), va, kPage), Status::kOk);
  const FreeOrder o = order_of(platform_.events, pa, va);
  ASSERT_LT(o.freed, platform_.events.size());
  EXPECT_LT(o.invalidated, o.freed);
}

TEST_F(MutationTest, MunmapEarlyFreeFreesFramesBeforeTheShootdown) {
  set(Mutation::kMunmapEarlyFree);
  const vm::vaddr_t va = map(kPage, vm::kProtRead | vm::kProtWrite, vm::Share::kPrivate);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kWrite), vm::FaultResult::kResolved);
  const vm::paddr_t pa = frame_of(va);
  as().pmap.activate(1);
  platform_.events.clear();
  ASSERT_EQ(vm::vm_munmap(kernel_.vm, as(), va, kPage), Status::kOk);
  const FreeOrder o = order_of(platform_.events, pa, va);
  ASSERT_LT(o.freed, platform_.events.size());
  // The invalidation still comes, too late.
  ASSERT_LT(o.invalidated, platform_.events.size());
  EXPECT_GT(o.invalidated, o.freed);
}

// ---- cow-no-shootdown --------------------------------------------------------

// A parent page made copy-on-write by fork (its entry stays present, read
// only), cached by CPUs 0 and 1; CPU 0 writes it.
TEST_F(MutationTest, CowFaultShootsDownEveryCpuCachingTheOldFrame) {
  const vm::vaddr_t va = map(kPage, vm::kProtRead | vm::kProtWrite, vm::Share::kPrivate);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kWrite), vm::FaultResult::kResolved);
  vm::Process* child = nullptr;
  ASSERT_EQ(kernel_.fork_process(proc_, "q", &child), Status::kOk);
  const vm::paddr_t old_pa = frame_of(va);
  as().pmap.activate(0);
  as().pmap.activate(1);
  platform_.cpu = 0;
  platform_.tlb_calls.clear();
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kWrite), vm::FaultResult::kResolved);
  EXPECT_NE(frame_of(va), old_pa);  // a copy replaced the present entry
  ASSERT_EQ(platform_.tlb_calls.size(), 1u);
  EXPECT_EQ(platform_.tlb_calls[0].cpus, 0b11u);
}

TEST_F(MutationTest, CowNoShootdownInvalidatesOnlyTheFaultingCpu) {
  set(Mutation::kCowNoShootdown);
  const vm::vaddr_t va = map(kPage, vm::kProtRead | vm::kProtWrite, vm::Share::kPrivate);
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kWrite), vm::FaultResult::kResolved);
  vm::Process* child = nullptr;
  ASSERT_EQ(kernel_.fork_process(proc_, "q", &child), Status::kOk);
  const vm::paddr_t old_pa = frame_of(va);
  as().pmap.activate(0);
  as().pmap.activate(1);
  platform_.cpu = 0;
  platform_.tlb_calls.clear();
  ASSERT_EQ(vm::vm_fault(kernel_.vm, as(), va, vm::Access::kWrite), vm::FaultResult::kResolved);
  EXPECT_NE(frame_of(va), old_pa);
  ASSERT_EQ(platform_.tlb_calls.size(), 1u);
  EXPECT_EQ(platform_.tlb_calls[0].cpus, 0b01u);  // CPU 1 keeps the old frame
}

// ---- resize-no-revalidate ----------------------------------------------------

// The file shrinks to one page while page 1 is being read in: the size the
// pager re-checks is changed at fault.pager_io, as a racing truncate would
// (truncate itself must wait for the busy page, which one thread cannot).
TEST_F(MutationTest, PageInRechecksTheSizeAfterTheRead) {
  vm::Vnode* f = file_of(2, 0x5a);
  const vm::vaddr_t va = map(2 * kPage, vm::kProtRead, vm::Share::kShared, f);
  platform_.hook_point = vm::YieldPoint::kFaultPagerIo;
  platform_.hook = [f] { f->size = kPage; };
  EXPECT_EQ(vm::vm_fault(kernel_.vm, as(), va + kPage, vm::Access::kRead), vm::FaultResult::kBus);
  EXPECT_EQ(vm::vm_object_lookup(f->object, 1), nullptr);
}

TEST_F(MutationTest, ResizeNoRevalidateMapsAPagePastTheEnd) {
  set(Mutation::kResizeNoRevalidate);
  vm::Vnode* f = file_of(2, 0x5a);
  const vm::vaddr_t va = map(2 * kPage, vm::kProtRead, vm::Share::kShared, f);
  platform_.hook_point = vm::YieldPoint::kFaultPagerIo;
  platform_.hook = [f] { f->size = kPage; };
  EXPECT_EQ(vm::vm_fault(kernel_.vm, as(), va + kPage, vm::Access::kRead),
            vm::FaultResult::kResolved);
  // The page cache holds a page past the end, and the mapping shows it
  // where the access should have been a bus error.
  EXPECT_NE(vm::vm_object_lookup(f->object, 1), nullptr);
  vm::paddr_t pa = 0;
  EXPECT_TRUE(as().pmap.extract(va + kPage, &pa, nullptr));
  // Tear down as truncate would have: unmapped and dropped from the cache.
  ASSERT_EQ(vm::vm_munmap(kernel_.vm, as(), va, 2 * kPage), Status::kOk);
}

// ---- collapse-while-busy -----------------------------------------------------

// A backing object that only its shadow references, one page of it busy.
struct BusyChain {
  vm::VmObject* top;
  vm::VmObject* base;
  vm::Page* busy;
};
BusyChain busy_chain(vm::Vm& v) {
  vm::VmObject* base = vm::vm_object_allocate(v, vm::VmObject::Kind::kAnonymous, 4);
  vm::Page* page = v.pages.alloc_zeroed();
  vm::vm_object_insert(v, base, page, 1);
  EXPECT_TRUE(vm::page_try_sbusy(page));  // a copy from it is in flight
  vm::VmObject* top = vm::vm_object_shadow(v, base, 0, 4);
  return {top, base, page};
}

TEST_F(MutationTest, CollapseLeavesABackingObjectWithABusyPage) {
  BusyChain c = busy_chain(kernel_.vm);
  {
    vm::TlbBatch batch(platform_, kernel_.vm.pages);
    vm::vm_object_collapse(kernel_.vm, c.top, batch);
  }
  EXPECT_EQ(c.top->backing, c.base);
  EXPECT_EQ(c.busy->object, c.base);
  EXPECT_EQ(kernel_.vm.stats.collapses.load(), 0u);
  // Once the page is no longer busy, the next attempt merges.
  vm::page_sunbusy(platform_, c.busy);
  {
    vm::TlbBatch batch(platform_, kernel_.vm.pages);
    vm::vm_object_collapse(kernel_.vm, c.top, batch);
  }
  EXPECT_EQ(c.top->backing, nullptr);
  EXPECT_EQ(c.busy->object, c.top);
  vm::TlbBatch batch(platform_, kernel_.vm.pages);
  vm::vm_object_deallocate(kernel_.vm, c.top, batch);
}

TEST_F(MutationTest, CollapseWhileBusyMovesTheBusyPage) {
  set(Mutation::kCollapseWhileBusy);
  BusyChain c = busy_chain(kernel_.vm);
  {
    vm::TlbBatch batch(platform_, kernel_.vm.pages);
    vm::vm_object_collapse(kernel_.vm, c.top, batch);
  }
  EXPECT_EQ(c.top->backing, nullptr);
  EXPECT_EQ(c.busy->object, c.top);  // the page changed owner under its busy holder
  EXPECT_EQ(kernel_.vm.stats.collapses.load(), 1u);
  vm::page_sunbusy(platform_, c.busy);
  vm::TlbBatch batch(platform_, kernel_.vm.pages);
  vm::vm_object_deallocate(kernel_.vm, c.top, batch);
}

// ---- poke-dirty-cow ----------------------------------------------------------

// A private read-only mapping of a file whose bytes are 0xaa; the other
// thread throws the private copy away (madvise dontneed) at poke.retry.
class PokeRaceTest : public MutationTest {
 protected:
  void SetUp() override {
    MutationTest::SetUp();
    file_ = file_of(1, 0xaa);
    va_ = map(kPage, vm::kProtRead, vm::Share::kPrivate, file_);
  }
  void discard_copy_at_retry() {
    platform_.hook_point = vm::YieldPoint::kPokeRetry;
    platform_.hook = [this] {
      if (discards_++ == 0) {
        ASSERT_EQ(vm::vm_madvise(kernel_.vm, as(), va_, kPage, vm::Advice::kDontNeed), Status::kOk);
      }
    };
  }
  // What the process sees at `offset` of its mapping: its own page, or the file's.
  int private_byte(vm::u64 offset) {
    const vm::Region* r = vm::vm_map_lookup(as(), va_);
    vm::VmObject* owner = nullptr;
    vm::Page* p = vm::vm_object_lookup_chain(r->object, r->index_of(va_), &owner);
    return p == nullptr ? -1 : kernel_.vm.pages.data(p)[offset];
  }
  int retries() {
    return static_cast<int>(
        std::count(platform_.yields.begin(), platform_.yields.end(), vm::YieldPoint::kPokeRetry));
  }

  vm::Vnode* file_ = nullptr;
  vm::vaddr_t va_ = 0;
  int discards_ = 0;
};

TEST_F(PokeRaceTest, PokeWritesAPrivateCopyAndLeavesTheFile) {
  EXPECT_EQ(kernel_.poke(proc_, va_ + 8, 1, 0x42), Status::kOk);
  EXPECT_EQ(private_byte(8), 0x42);
  EXPECT_EQ(cached_byte(file_, 8), 0xaa);
  EXPECT_EQ(retries(), 1);
}

TEST_F(PokeRaceTest, PokeMakesANewCopyWhenTheFirstWasDiscarded) {
  discard_copy_at_retry();
  EXPECT_EQ(kernel_.poke(proc_, va_ + 8, 1, 0x42), Status::kOk);
  EXPECT_EQ(discards_, 2);  // two forced faults: the copy was made twice
  EXPECT_EQ(private_byte(8), 0x42);
  EXPECT_EQ(cached_byte(file_, 8), 0xaa);
  EXPECT_EQ((platform_.disk[{7, 0}][8]), 0xaa);
}

TEST_F(PokeRaceTest, PokeDirtyCowWithoutTheRaceStillWritesTheCopy) {
  set(Mutation::kPokeDirtyCow);
  EXPECT_EQ(kernel_.poke(proc_, va_ + 8, 1, 0x42), Status::kOk);
  EXPECT_EQ(private_byte(8), 0x42);
  EXPECT_EQ(cached_byte(file_, 8), 0xaa);
}

TEST_F(PokeRaceTest, PokeDirtyCowWritesTheFileWhenTheCopyIsGone) {
  set(Mutation::kPokeDirtyCow);
  discard_copy_at_retry();
  EXPECT_EQ(kernel_.poke(proc_, va_ + 8, 1, 0x42), Status::kOk);
  EXPECT_EQ(discards_, 1);                 // the retry took the file's page: no second fault
  EXPECT_EQ(cached_byte(file_, 8), 0x42);  // the read-only file changed
  EXPECT_EQ(private_byte(8), 0x42);        // seen through the mapping's new shadow
}

TEST_F(PokeRaceTest, PokeRefusals) {
  EXPECT_EQ(kernel_.poke(proc_, va_ + kPage, 1, 1), Status::kFault);  // unmapped
  const vm::vaddr_t shared_ro = map(kPage, vm::kProtRead, vm::Share::kShared, file_);
  EXPECT_EQ(kernel_.poke(proc_, shared_ro, 1, 1), Status::kFault);
  const vm::vaddr_t shared_rw =
      map(2 * kPage, vm::kProtRead | vm::kProtWrite, vm::Share::kShared, file_);
  EXPECT_EQ(kernel_.poke(proc_, shared_rw + kPage, 1, 1), Status::kFault);  // past EOF
  EXPECT_EQ(kernel_.poke(proc_, shared_rw + 3, 1, 0x77), Status::kOk);
  EXPECT_EQ(cached_byte(file_, 3), 0x77);  // a shared mapping writes the file
  // A private anonymous PROT_NONE page is written too.
  const vm::vaddr_t none = map(kPage, vm::kProtNone, vm::Share::kPrivate);
  EXPECT_EQ(kernel_.poke(proc_, none + 16, 8, 0x1122334455667788), Status::kOk);
}

}  // namespace
