// The shadow TLB (sim/run/shadow_tlb.hpp): which cached translations count
// as stale, when a mismatch is only a pending invalidation, and the messages.
#include "run/shadow_tlb.hpp"

#include <gtest/gtest.h>

#include <map>

namespace vmsim {
namespace {

constexpr uint64_t kRootA = 0x5000;
constexpr uint64_t kRootB = 0x9000;
constexpr uint64_t kVa = 0x7f0000001000;
constexpr uint64_t kPa = 0x12000;
constexpr uint64_t kOtherPa = 0x34000;

ShadowTlb::Pte pte(uint64_t pa, bool writable) {
  return std::make_pair(pa, writable);
}

// Two CPUs running address space A, CPU 1 having used kVa → kPa writable.
ShadowTlb cached_on_cpu1() {
  ShadowTlb tlb(2);
  tlb.load_root(0, kRootA);
  tlb.load_root(1, kRootA);
  tlb.record(1, kVa, kPa, true);
  return tlb;
}

TEST(ShadowTlb, AnEntryTheTableStillAllowsIsNotStale) {
  ShadowTlb tlb = cached_on_cpu1();
  EXPECT_EQ(tlb.check_access(1, kVa, pte(kPa, true)), std::nullopt);
  // Rights raised since it was cached: the CPU faults and refills, no harm.
  tlb.record(0, kVa, kPa, false);
  EXPECT_EQ(tlb.check_access(0, kVa, pte(kPa, true)), std::nullopt);
  // A CPU that never used the page holds nothing to be stale.
  ShadowTlb fresh(1);
  fresh.load_root(0, kRootA);
  EXPECT_EQ(fresh.check_access(0, kVa, std::nullopt), std::nullopt);
}

TEST(ShadowTlb, EntryWithoutPteIsStaleAndNamesCpuVaAndFrame) {
  ShadowTlb tlb = cached_on_cpu1();
  EXPECT_EQ(tlb.check_access(1, kVa, std::nullopt),
            "CPU 1 caches va 0x7f0000001000 -> pa 0x12000 (writable), but the page table has no "
            "entry for it");
  EXPECT_EQ(tlb.check_access(0, kVa, std::nullopt), std::nullopt);  // CPU 0 never cached it
}

TEST(ShadowTlb, EntryToAnotherFrameIsStale) {
  ShadowTlb tlb = cached_on_cpu1();
  EXPECT_EQ(tlb.check_access(1, kVa, pte(kOtherPa, false)),
            "CPU 1 caches va 0x7f0000001000 -> pa 0x12000 (writable), but the page table maps it "
            "to pa 0x34000 (read-only)");
}

TEST(ShadowTlb, WritableEntryOfAReadOnlyPteIsStale) {
  ShadowTlb tlb = cached_on_cpu1();
  EXPECT_EQ(tlb.check_access(1, kVa, pte(kPa, false)),
            "CPU 1 caches va 0x7f0000001000 -> pa 0x12000 (writable), but the page table maps it "
            "read-only");
}

TEST(ShadowTlb, InvalidationsDropEntries) {
  ShadowTlb tlb = cached_on_cpu1();
  tlb.record(1, kVa + 0x1000, kOtherPa, false);
  tlb.invalidate_page(1, kVa);
  EXPECT_EQ(tlb.check_access(1, kVa, std::nullopt), std::nullopt);
  EXPECT_EQ(tlb.entry_count(1), 1u);
  tlb.invalidate_all(1);
  EXPECT_EQ(tlb.entry_count(1), 0u);
  EXPECT_EQ(tlb.check_access(1, kVa + 0x1000, std::nullopt), std::nullopt);
}

TEST(ShadowTlb, LoadingAnotherRootDropsUserEntriesTheSameRootKeepsThem) {
  ShadowTlb tlb = cached_on_cpu1();
  tlb.load_root(1, kRootA);
  EXPECT_EQ(tlb.entry_count(1), 1u);
  tlb.load_root(1, kRootB);
  EXPECT_EQ(tlb.entry_count(1), 0u);
  EXPECT_EQ(tlb.root(1), kRootB);
  // Back on A, nothing of A's came back: the lazy-invalidation rule.
  tlb.load_root(1, kRootA);
  EXPECT_EQ(tlb.check_freed(kPa), std::nullopt);
}

TEST(ShadowTlb, RecordKeepsACachedEntryOfAnotherFrame) {
  // The CPU used its cached translation; the walk that found the new frame
  // says nothing about what the CPU holds.
  ShadowTlb tlb = cached_on_cpu1();
  tlb.record(1, kVa, kOtherPa, true);
  EXPECT_NE(tlb.check_access(1, kVa, pte(kOtherPa, true)), std::nullopt);
  EXPECT_NE(tlb.check_freed(kPa), std::nullopt);
}

TEST(ShadowTlb, RecordWidensRightsOfTheSameFrame) {
  ShadowTlb tlb(1);
  tlb.load_root(0, kRootA);
  tlb.record(0, kVa, kPa, false);
  EXPECT_EQ(tlb.check_access(0, kVa, pte(kPa, false)), std::nullopt);
  tlb.record(0, kVa, kPa, true);  // a write refilled it writable
  EXPECT_NE(tlb.check_access(0, kVa, pte(kPa, false)), std::nullopt);
}

TEST(ShadowTlb, FreedFrameStillCachedIsStale) {
  ShadowTlb tlb = cached_on_cpu1();
  EXPECT_EQ(tlb.check_freed(kPa),
            "frame pa 0x12000 was freed while CPU 1 still caches va 0x7f0000001000 -> it "
            "(writable)");
  EXPECT_EQ(tlb.check_freed(kOtherPa), std::nullopt);
  tlb.invalidate_page(1, kVa);
  EXPECT_EQ(tlb.check_freed(kPa), std::nullopt);
}

TEST(ShadowTlb, FreedFrameReportsTheLowestCpuAndVa) {
  ShadowTlb tlb(3);
  for (unsigned cpu = 0; cpu < 3; ++cpu) tlb.load_root(cpu, kRootA);
  tlb.record(2, kVa, kPa, false);
  tlb.record(1, kVa + 0x2000, kPa, false);
  tlb.record(1, kVa + 0x1000, kPa, false);
  EXPECT_EQ(tlb.check_freed(kPa),
            "frame pa 0x12000 was freed while CPU 1 still caches va 0x7f0000002000 -> it "
            "(read-only)");
}

// Another thread stopped between clearing the PTE and its shootdown (e.g.
// at munmap.pte_cleared): the access is allowed to use the old entry.
TEST(ShadowTlb, MismatchDuringAnotherOperationIsPendingUntilItsInvalidation) {
  ShadowTlb tlb = cached_on_cpu1();
  tlb.op_started();  // the munmap on CPU 0
  tlb.op_started();  // the read on CPU 1
  EXPECT_EQ(tlb.check_access(1, kVa, std::nullopt), std::nullopt);
  EXPECT_EQ(tlb.op_finished(), std::nullopt);  // the read ends; the munmap is still in flight
  tlb.invalidate_page(1, kVa);                 // the munmap's shootdown arrives
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
}

TEST(ShadowTlb, PendingMismatchNoInvalidationClearedIsReportedWhenAllOpsEnd) {
  ShadowTlb tlb = cached_on_cpu1();
  tlb.op_started();
  tlb.op_started();
  EXPECT_EQ(tlb.check_access(1, kVa, std::nullopt), std::nullopt);
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
  EXPECT_EQ(tlb.op_finished(),
            "CPU 1 caches va 0x7f0000001000 -> pa 0x12000 (writable), but the page table has no "
            "entry for it (no invalidation came before every operation in flight had finished)");
  // Reported once.
  tlb.op_started();
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
}

TEST(ShadowTlb, MismatchWithOnlyTheAccessingOperationInFlightIsReportedAtOnce) {
  ShadowTlb tlb = cached_on_cpu1();
  tlb.op_started();
  EXPECT_NE(tlb.check_access(1, kVa, std::nullopt), std::nullopt);
}

TEST(ShadowTlb, CheckAllComparesEveryEntryWithTheTable) {
  ShadowTlb tlb = cached_on_cpu1();
  tlb.load_root(0, kRootB);
  tlb.record(0, kVa, kOtherPa, true);
  std::map<std::pair<uint64_t, uint64_t>, ShadowTlb::Pte> table{
      {{kRootA, kVa}, pte(kPa, true)}, {{kRootB, kVa}, pte(kOtherPa, true)}};
  auto lookup = [&table](uint64_t root, uint64_t va) -> ShadowTlb::Pte {
    auto it = table.find({root, va});
    return it == table.end() ? std::nullopt : it->second;
  };
  EXPECT_EQ(tlb.check_all(lookup), std::nullopt);
  table[{kRootA, kVa}] = pte(kOtherPa, true);  // a COW copy CPU 1 was not told about
  EXPECT_EQ(tlb.check_all(lookup),
            "CPU 1 caches va 0x7f0000001000 -> pa 0x12000 (writable), but the page table maps it "
            "to pa 0x34000 (writable)");
}

}  // namespace
}  // namespace vmsim
