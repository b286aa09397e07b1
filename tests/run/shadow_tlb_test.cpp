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

// --- 2 MiB entries ---------------------------------------------------------------

constexpr uint64_t kLargeVa = 0x20000000;
constexpr uint64_t kLargePa = 0x400000;

// CPU 1 read one page of a 2 MiB page: it caches the whole 2 MiB.
ShadowTlb large_on_cpu1() {
  ShadowTlb tlb(2);
  tlb.load_root(0, kRootA);
  tlb.load_root(1, kRootA);
  tlb.record(1, kLargeVa + 0x3000, kLargePa + 0x3000, true, true);
  return tlb;
}

TEST(ShadowTlb, AWalkThroughALargeEntryCachesTheWhole2MiB) {
  ShadowTlb tlb = large_on_cpu1();
  EXPECT_EQ(tlb.entry_count(1), 1u);
  // Another page of it, never touched, is cached too: a stale use shows.
  EXPECT_EQ(tlb.check_access(1, kLargeVa + 0x1ff000, pte(kLargePa + 0x1ff000, true), true),
            std::nullopt);
  EXPECT_EQ(tlb.check_access(1, kLargeVa + 0x1ff000, std::nullopt),
            "CPU 1 caches va 0x201ff000 -> pa 0x5ff000 (writable, through its 2 MiB entry of va "
            "0x20000000), but the page table has no entry for it");
  // A later access through it adds no 4 KiB entry.
  tlb.record(1, kLargeVa + 0x5000, kLargePa + 0x5000, true, false);
  EXPECT_EQ(tlb.entry_count(1), 1u);
}

TEST(ShadowTlb, InvlpgOfAnyAddressInside2MiBDropsIt) {
  ShadowTlb tlb = large_on_cpu1();
  tlb.invalidate_page(1, kLargeVa + 0x1ff000);
  EXPECT_EQ(tlb.entry_count(1), 0u);
  EXPECT_EQ(tlb.check_freed(kLargePa + 0x3000), std::nullopt);
  ShadowTlb other = large_on_cpu1();
  other.invalidate_page(1, kLargeVa + 0x200000);  // the next 2 MiB
  EXPECT_EQ(other.entry_count(1), 1u);
  other.invalidate_all(1);
  EXPECT_EQ(other.entry_count(1), 0u);
}

TEST(ShadowTlb, FreeingAnyFrameOfACached2MiBPageIsStale) {
  ShadowTlb tlb = large_on_cpu1();
  EXPECT_EQ(tlb.check_freed(kLargePa + 0x1ff000),
            "frame pa 0x5ff000 was freed while CPU 1 still caches va 0x201ff000 -> it (writable, "
            "through its 2 MiB entry of va 0x20000000)");
  EXPECT_EQ(tlb.check_freed(kLargePa + 0x200000), std::nullopt);
}

// The entry became a page table of the same frames and no invalidation came:
// the CPU may use the 2 MiB entry and walk the table, at once (SDM 4.10.2.3).
TEST(ShadowTlb, A2MiBEntryOverA4KiBTableIsReportedAtOnce) {
  ShadowTlb tlb = large_on_cpu1();
  tlb.op_started();  // the munmap that split it, still in flight
  tlb.op_started();  // the read
  EXPECT_EQ(tlb.check_access(1, kLargeVa, pte(kLargePa, true), false),
            "CPU 1 caches va 0x20000000 -> pa 0x400000 (writable, through its 2 MiB entry of va "
            "0x20000000), but the page table maps it with a 4 KiB entry now, and no invalidation "
            "came between the page-size change and this access: the CPU may hold translations of "
            "both sizes for one address (Intel SDM vol. 3 4.10.2.3; a machine check under AMD "
            "erratum 383)");
  // A page of it with no entry now is a stale use the munmap's shootdown
  // may still cover: suspected, and that shootdown clears it.
  EXPECT_EQ(tlb.check_access(1, kLargeVa + 0x100000, std::nullopt), std::nullopt);
  tlb.invalidate_all(1);
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
}

TEST(ShadowTlb, A4KiBEntryUnderANewLargeEntryIsReportedToo) {
  ShadowTlb tlb = cached_on_cpu1();
  EXPECT_NE(tlb.check_access(1, kVa, pte(kPa, true), true), std::nullopt);
}

TEST(ShadowTlb, SuspicionFromA2MiBEntryGoesWithAnInvlpgAnywhereInIt) {
  ShadowTlb tlb = large_on_cpu1();
  tlb.op_started();
  tlb.op_started();
  EXPECT_EQ(tlb.check_access(1, kLargeVa + 0x100000, std::nullopt), std::nullopt);
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
  tlb.invalidate_page(1, kLargeVa + 0x1ff000);
  EXPECT_EQ(tlb.op_finished(), std::nullopt);
}

TEST(ShadowTlb, CheckAllComparesEveryPageOfA2MiBEntry) {
  ShadowTlb tlb = large_on_cpu1();
  bool split = false;
  auto lookup = [](uint64_t, uint64_t va) -> ShadowTlb::Pte {
    return pte(kLargePa + (va - kLargeVa), true);
  };
  auto large = [&split](uint64_t, uint64_t) { return !split; };
  EXPECT_EQ(tlb.check_all(lookup, large), std::nullopt);
  split = true;  // a page table of the same frames, the 2 MiB entry not invalidated
  EXPECT_NE(tlb.check_all(lookup, large), std::nullopt);
}

}  // namespace
}  // namespace vmsim
