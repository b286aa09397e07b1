// Tests of the reference model (sim/model): every rule of docs/semantics.md
// for the first milestone's ops, and the digest of spec §7.
#include "model/model.hpp"

#include <gtest/gtest.h>

#include "model_test_util.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "lib/sha256.hpp"

namespace vmsim {
namespace {

using modeltest::Hex16;
using modeltest::Sha256Hex;

using vm::Signal;
using vm::Status;

constexpr uint64_t kP = 4096;
constexpr uint8_t kNone = 0;
constexpr uint8_t kRo = kR;
constexpr uint8_t kRw = kR | kW;
constexpr uint8_t kWo = kW;
constexpr uint8_t kXo = kX;
constexpr uint8_t kRx = kR | kX;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override { m.create_process("p"); }

  // mmap that must succeed; returns the start.
  uint64_t Map(uint64_t len, uint8_t prot = kRw, bool shared = false,
               std::optional<uint64_t> addr = std::nullopt, bool fixed = false) {
    ModelOutcome o = m.mmap("p", addr, len, prot, shared, fixed, false);
    EXPECT_EQ(o.status, Status::kOk);
    return o.value;
  }
  uint64_t MapFixed(uint64_t addr, uint64_t len, uint8_t prot = kRw, bool shared = false) {
    uint64_t got = Map(len, prot, shared, addr, /*fixed=*/true);
    EXPECT_EQ(got, addr);
    return got;
  }
  Status MmapStatus(std::optional<uint64_t> addr, uint64_t len, bool fixed) {
    return m.mmap("p", addr, len, kRw, false, fixed, false).status;
  }

  // Accesses that must succeed.
  void Write(uint64_t addr, uint64_t value, uint32_t size = 8) {
    ModelOutcome o = m.write("p", addr, size, value);
    EXPECT_EQ(o.signal, Signal::kNone) << std::hex << addr;
  }
  uint64_t Read(uint64_t addr, uint32_t size = 8) {
    ModelOutcome o = m.read("p", addr, size);
    EXPECT_EQ(o.signal, Signal::kNone) << std::hex << addr;
    return o.value;
  }
  // Whether an access signals segv at `addr`.
  bool ReadFaults(uint64_t addr) {
    ModelOutcome o = m.read("p", addr, 1);
    if (o.signal == Signal::kNone) return false;
    EXPECT_EQ(o.signal, Signal::kSegv);
    EXPECT_EQ(o.fault_addr, addr);
    return true;
  }
  bool WriteFaults(uint64_t addr) {
    ModelOutcome o = m.write("p", addr, 1, 0x5a);
    if (o.signal == Signal::kNone) return false;
    EXPECT_EQ(o.signal, Signal::kSegv);
    EXPECT_EQ(o.fault_addr, addr);
    return true;
  }

  Model m;
};

// ---------------------------------------------------------------------------
// Processes

TEST(ModelProcess, CreateAndQuery) {
  Model m;
  EXPECT_FALSE(m.has_process("p"));
  m.create_process("p");
  EXPECT_TRUE(m.has_process("p"));
  EXPECT_FALSE(m.has_process("q"));
}

// Out of memory (spec §8): the model has no limit, so it kills exactly where
// the trace says `expect_fault: oom`, as exit does.
TEST_F(ModelTest, OomKillEndsTheProcessLikeExit) {
  const uint64_t shared = Map(kP, kRw, /*shared=*/true);
  Write(shared, 0x77);
  ASSERT_EQ(m.fork("p", "q").status, Status::kOk);
  Model exited = m;
  exited.exit("p");

  const ModelOutcome o = m.oom_kill("p");
  EXPECT_EQ(o.signal, Signal::kOom);
  EXPECT_EQ(o.status, Status::kOk);
  EXPECT_FALSE(m.has_process("p"));
  EXPECT_EQ(m.digest(), exited.digest());
  // The memory it shared lives on in the other process.
  EXPECT_EQ(m.read("q", shared, 8).value, 0x77u);
}

TEST_F(ModelTest, OomKillOfAProcessAlreadyGoneChangesNothing) {
  m.create_process("q");
  m.oom_kill("p");  // another thread of p was killed first
  const std::string before = m.digest();
  EXPECT_EQ(m.oom_kill("p").signal, Signal::kOom);
  EXPECT_EQ(m.digest(), before);
  EXPECT_TRUE(m.has_process("q"));
}

TEST_F(ModelTest, NewProcessIsEmpty) {
  EXPECT_TRUE(ReadFaults(0x10000));
  EXPECT_TRUE(ReadFaults(kInitialBreak));
  EXPECT_TRUE(ReadFaults(kMmapTop - kP));
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak);
}

TEST_F(ModelTest, ProcessesHaveSeparateAddressSpaces) {
  m.create_process("q");
  MapFixed(0x20000000, kP);
  Write(0x20000000, 7);
  EXPECT_TRUE(m.read("q", 0x20000000, 1).signal == Signal::kSegv);
  ASSERT_EQ(m.mmap("q", 0x20000000, kP, kRw, false, true, false).status, Status::kOk);
  EXPECT_EQ(m.read("q", 0x20000000, 8).value, 0u);
  EXPECT_EQ(Read(0x20000000), 7u);
}

// ---------------------------------------------------------------------------
// mmap: placement

TEST_F(ModelTest, MmapPlacesAtHighestFitBelowMmapTop) {
  EXPECT_EQ(Map(kP), kMmapTop - kP);
  EXPECT_EQ(Map(2 * kP), kMmapTop - 3 * kP);
  EXPECT_EQ(Map(1), kMmapTop - 4 * kP);  // length rounded up to a page
}

TEST_F(ModelTest, MmapFillsTheHighestHoleThatFits) {
  const uint64_t a = Map(4 * kP);                                // [top-4p, top)
  ASSERT_EQ(m.munmap("p", a + kP, kP).status, Status::kOk);      // hole of 1 page
  ASSERT_EQ(m.munmap("p", a + 3 * kP, kP).status, Status::kOk);  // 1 page below top
  EXPECT_EQ(Map(kP), a + 3 * kP);      // highest: the free page right below the top
  EXPECT_EQ(Map(2 * kP), a - 2 * kP);  // the 1-page hole is too small
  EXPECT_EQ(Map(kP), a + kP);          // now the hole is the highest fit
}

TEST_F(ModelTest, MmapSearchIgnoresMappingsAboveMmapTop) {
  MapFixed(kMmapTop, kP);       // just above the search window
  MapFixed(kMmapTop - kP, kP);  // the top page of the window
  EXPECT_EQ(Map(kP), kMmapTop - 2 * kP);
  // Replace the top two pages by one mapping straddling the window's top,
  // with a mapping at top-4p below it.
  MapFixed(kMmapTop - 4 * kP, kP);
  ASSERT_EQ(m.munmap("p", kMmapTop - 2 * kP, 3 * kP).status, Status::kOk);
  MapFixed(kMmapTop - kP, 2 * kP);  // [top-p, top+p)
  EXPECT_EQ(Map(kP), kMmapTop - 2 * kP);
  EXPECT_EQ(Map(kP), kMmapTop - 3 * kP);
  EXPECT_EQ(Map(kP), kMmapTop - 5 * kP);
}

TEST_F(ModelTest, MmapHintUsedWhenFree) {
  EXPECT_EQ(Map(kP, kRw, false, 0x20000000), 0x20000000u);
  EXPECT_EQ(Map(kP, kRw, false, 0x30000123), 0x30000000u);  // rounded down
  EXPECT_EQ(Map(kP, kRw, false, 0x10000), 0x10000u);        // lowest allowed
  // Above the search window but inside user space: still used.
  EXPECT_EQ(Map(kP, kRw, false, kUserTop - kP), kUserTop - kP);
  EXPECT_EQ(Map(2 * kP, kRw, false, 0x7ff000000000), 0x7ff000000000u);
}

TEST_F(ModelTest, MmapHintIgnoredWhenOccupied) {
  MapFixed(0x20000000, 2 * kP);
  EXPECT_EQ(Map(kP, kRw, false, 0x20000000), kMmapTop - kP);
  // Partly occupied: [hint, hint+len) overlaps the mapping's first page.
  EXPECT_EQ(Map(2 * kP, kRw, false, 0x20000000 - kP), kMmapTop - 3 * kP);
  // Right after the mapping is free.
  EXPECT_EQ(Map(kP, kRw, false, 0x20000000 + 2 * kP), 0x20000000 + 2 * kP);
}

TEST_F(ModelTest, MmapHintIgnoredBelowMinOrPastUserTop) {
  EXPECT_EQ(Map(kP, kRw, false, 0), kMmapTop - kP);
  EXPECT_EQ(Map(kP, kRw, false, 0xf000), kMmapTop - 2 * kP);
  EXPECT_EQ(Map(2 * kP, kRw, false, kUserTop - kP), kMmapTop - 4 * kP);
  EXPECT_EQ(Map(kP, kRw, false, kUserTop), kMmapTop - 5 * kP);
  EXPECT_EQ(Map(kP, kRw, false, kMax), kMmapTop - 6 * kP);
}

TEST_F(ModelTest, MmapWholeWindowThenNoRoom) {
  EXPECT_EQ(Map(kMmapTop - kMinMapAddr), kMinMapAddr);
  EXPECT_EQ(MmapStatus(std::nullopt, kP, false), Status::kNoMem);
  // The space above the window is only reachable with a hint or fixed.
  EXPECT_EQ(Map(kP, kRw, false, kMmapTop), kMmapTop);
}

TEST_F(ModelTest, MmapTooLargeForWindowIsEnomem) {
  EXPECT_EQ(MmapStatus(std::nullopt, kMmapTop - kMinMapAddr + 1, false), Status::kNoMem);
  MapFixed(0x20000000, kP);
  // Neither side of the mapping holds this.
  EXPECT_EQ(MmapStatus(std::nullopt, kMmapTop - 0x20000000, false), Status::kNoMem);
  EXPECT_EQ(Map(kMmapTop - 0x20000000 - kP), 0x20000000 + kP);
}

TEST_F(ModelTest, MmapLengthErrors) {
  EXPECT_EQ(MmapStatus(std::nullopt, 0, false), Status::kInval);
  EXPECT_EQ(MmapStatus(0x20000000, 0, true), Status::kInval);
  EXPECT_EQ(MmapStatus(std::nullopt, kMax, false), Status::kNoMem);  // rounding overflows
  EXPECT_EQ(MmapStatus(std::nullopt, kMax - kP, false), Status::kNoMem);
  EXPECT_EQ(MmapStatus(std::nullopt, kUserTop + 1, false), Status::kNoMem);
  EXPECT_EQ(MmapStatus(0x10000, kUserTop, true), Status::kNoMem);
}

// ---------------------------------------------------------------------------
// mmap: fixed

TEST_F(ModelTest, MmapFixedErrors) {
  EXPECT_EQ(MmapStatus(0x20000123, kP, true), Status::kInval);  // unaligned
  EXPECT_EQ(MmapStatus(0, kP, true), Status::kInval);           // below 0x10000
  EXPECT_EQ(MmapStatus(0xf000, kP, true), Status::kInval);
  EXPECT_EQ(MmapStatus(kUserTop - kP, 2 * kP, true), Status::kNoMem);  // past user space
  EXPECT_EQ(MmapStatus(kUserTop, kP, true), Status::kNoMem);
  EXPECT_EQ(MmapStatus(kMax - kP + 1, kP, true), Status::kNoMem);  // addr+len overflows
  // Past the top is checked before the alignment and the minimum, as in Linux.
  EXPECT_EQ(MmapStatus(kUserTop - kP + 1, 2 * kP, true), Status::kNoMem);
  EXPECT_EQ(MmapStatus(0x123, kUserTop, true), Status::kNoMem);
  // Boundaries that fit.
  MapFixed(0x10000, kP);
  MapFixed(kUserTop - kP, kP);
  Write(kUserTop - 8, 1);
}

TEST_F(ModelTest, MmapFixedReplacesWhateverIsThere) {
  const uint64_t a = MapFixed(0x20000000, 4 * kP);
  for (uint64_t i = 0; i < 4; ++i) Write(a + i * kP, 100 + i);
  MapFixed(a + kP, 2 * kP, kRo);
  EXPECT_EQ(Read(a), 100u);
  EXPECT_EQ(Read(a + kP), 0u);  // new zero memory
  EXPECT_EQ(Read(a + 2 * kP), 0u);
  EXPECT_EQ(Read(a + 3 * kP), 103u);
  EXPECT_TRUE(WriteFaults(a + kP));  // with the new protection
  EXPECT_FALSE(WriteFaults(a + 3 * kP));
  // Spanning several mappings and holes.
  MapFixed(a + 6 * kP, kP);
  MapFixed(a - kP, 9 * kP, kRw, true);
  for (uint64_t i = 0; i < 9; ++i) EXPECT_EQ(Read(a - kP + i * kP), 0u);
}

TEST_F(ModelTest, MmapNewMemoryIsZeroAndPopulateIsInvisible) {
  const uint64_t a = Map(3 * kP);
  for (uint64_t off = 0; off < 3 * kP; off += 512) EXPECT_EQ(Read(a + off), 0u);
  Model other;
  other.create_process("p");
  ASSERT_EQ(other.mmap("p", std::nullopt, 3 * kP, kRw, false, false, /*populate=*/true).value, a);
  EXPECT_EQ(other.read("p", a + kP, 8).value, 0u);
  EXPECT_EQ(other.digest(), m.digest());
}

// ---------------------------------------------------------------------------
// munmap

TEST_F(ModelTest, MunmapRemovesPagesAndSplits) {
  const uint64_t a = MapFixed(0x20000000, 3 * kP);
  Write(a, 1);
  Write(a + 2 * kP, 3);
  ASSERT_EQ(m.munmap("p", a + kP, 1).status, Status::kOk);  // length rounded up
  EXPECT_TRUE(ReadFaults(a + kP));
  EXPECT_TRUE(ReadFaults(a + 2 * kP - 1));
  EXPECT_EQ(Read(a), 1u);
  EXPECT_EQ(Read(a + 2 * kP), 3u);
}

TEST_F(ModelTest, MunmapWithHolesAndOfNothingSucceeds) {
  MapFixed(0x20000000, kP);
  MapFixed(0x20003000, 2 * kP);
  EXPECT_EQ(m.munmap("p", 0x1fff0000, 0x100000).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(0x20000000));
  EXPECT_TRUE(ReadFaults(0x20004000));
  EXPECT_EQ(m.munmap("p", 0x30000000, kP).status, Status::kOk);
  EXPECT_EQ(m.munmap("p", 0, kP).status, Status::kOk);  // below 0x10000: nothing there
}

TEST_F(ModelTest, MunmapErrors) {
  const uint64_t a = MapFixed(0x20000000, 2 * kP);
  EXPECT_EQ(m.munmap("p", a + 1, kP).status, Status::kInval);
  EXPECT_EQ(m.munmap("p", a, 0).status, Status::kInval);
  EXPECT_EQ(m.munmap("p", kUserTop - kP, 2 * kP).status, Status::kInval);
  EXPECT_EQ(m.munmap("p", kUserTop, kP).status, Status::kInval);
  EXPECT_EQ(m.munmap("p", a, kMax).status, Status::kInval);  // rounding overflows
  EXPECT_EQ(m.munmap("p", kMax - kP + 1, kP).status, Status::kInval);
  EXPECT_FALSE(ReadFaults(a));  // nothing changed
  EXPECT_EQ(m.munmap("p", kUserTop - kP, kP).status, Status::kOk);
}

TEST_F(ModelTest, RemappedPrivateMemoryIsZero) {
  const uint64_t a = MapFixed(0x20000000, kP);
  Write(a, 42);
  ASSERT_EQ(m.munmap("p", a, kP).status, Status::kOk);
  MapFixed(a, kP);
  EXPECT_EQ(Read(a), 0u);
}

// ---------------------------------------------------------------------------
// mprotect

TEST_F(ModelTest, MprotectChangesPartOfAMapping) {
  const uint64_t a = MapFixed(0x20000000, 3 * kP);
  Write(a + kP, 0x1234);
  ASSERT_EQ(m.mprotect("p", a + kP, kP, kRo).status, Status::kOk);
  EXPECT_FALSE(WriteFaults(a));
  EXPECT_TRUE(WriteFaults(a + kP));
  EXPECT_FALSE(WriteFaults(a + 2 * kP));
  EXPECT_EQ(Read(a + kP), 0x1234u);  // content unchanged
  ASSERT_EQ(m.mprotect("p", a, 3 * kP, kNone).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(a));
  EXPECT_TRUE(ReadFaults(a + kP));
  ASSERT_EQ(m.mprotect("p", a, 1, kRw).status, Status::kOk);  // length rounded up
  EXPECT_FALSE(WriteFaults(a + kP - 1));
  EXPECT_TRUE(ReadFaults(a + kP));
}

TEST_F(ModelTest, MprotectStopsAtTheFirstHoleKeepingWhatItChanged) {
  const uint64_t a = MapFixed(0x20000000, 2 * kP);  // [a, a+2p)
  MapFixed(a + 3 * kP, kP);                         // hole at a+2p
  EXPECT_EQ(m.mprotect("p", a, 4 * kP, kRo).status, Status::kNoMem);
  EXPECT_TRUE(WriteFaults(a));
  EXPECT_TRUE(WriteFaults(a + kP));
  EXPECT_FALSE(WriteFaults(a + 3 * kP));  // past the hole: untouched
  EXPECT_TRUE(ReadFaults(a + 2 * kP));    // the hole stays a hole
}

TEST_F(ModelTest, MprotectOfUnmappedStartChangesNothing) {
  const uint64_t a = MapFixed(0x20000000, 2 * kP);
  EXPECT_EQ(m.mprotect("p", a - kP, 3 * kP, kRo).status, Status::kNoMem);
  EXPECT_FALSE(WriteFaults(a));
  EXPECT_FALSE(WriteFaults(a + kP));
  EXPECT_EQ(m.mprotect("p", 0x30000000, kP, kRo).status, Status::kNoMem);
}

TEST_F(ModelTest, MprotectArgumentRules) {
  const uint64_t a = MapFixed(0x20000000, kP);
  EXPECT_EQ(m.mprotect("p", a + 8, kP, kRo).status, Status::kInval);
  EXPECT_EQ(m.mprotect("p", a, 0, kRo).status, Status::kOk);
  EXPECT_EQ(m.mprotect("p", 0x30000000, 0, kRo).status, Status::kOk);  // len 0: nothing
  EXPECT_FALSE(WriteFaults(a));
  // A range that wraps past 2^64 changes nothing.
  EXPECT_EQ(m.mprotect("p", a, kMax, kRo).status, Status::kNoMem);
  EXPECT_EQ(m.mprotect("p", a, kMax - a + 1, kRo).status, Status::kNoMem);  // ends at 2^64
  EXPECT_EQ(m.mprotect("p", kUserTop, kP, kRo).status, Status::kNoMem);
  EXPECT_FALSE(WriteFaults(a));
  // One past the top of user space is walked like any other: Linux has no
  // check there, and the hole above the top stops it after the change.
  EXPECT_EQ(m.mprotect("p", a, kUserTop, kRo).status, Status::kNoMem);
  EXPECT_TRUE(WriteFaults(a));
}

TEST_F(ModelTest, MprotectPastTheTopChangesTheMappedPart) {
  const uint64_t a = MapFixed(kUserTop - 2 * kP, 2 * kP);
  EXPECT_EQ(m.mprotect("p", a, 4 * kP, kRo).status, Status::kNoMem);
  EXPECT_TRUE(WriteFaults(a));
  EXPECT_TRUE(WriteFaults(a + kP));
}

TEST_F(ModelTest, MprotectAcrossAdjacentMappings) {
  MapFixed(0x20000000, kP);
  MapFixed(0x20001000, kP, kRo, true);
  EXPECT_EQ(m.mprotect("p", 0x20000000, 2 * kP, kWo).status, Status::kOk);
  EXPECT_FALSE(WriteFaults(0x20000000));
  EXPECT_FALSE(WriteFaults(0x20001000));
}

// ---------------------------------------------------------------------------
// madvise

TEST_F(ModelTest, MadviseDontneedZeroesPrivateKeepsShared) {
  const uint64_t priv = MapFixed(0x20000000, 2 * kP);
  const uint64_t shr = MapFixed(0x30000000, 2 * kP, kRw, /*shared=*/true);
  Write(priv, 11);
  Write(priv + kP, 12);
  Write(shr, 21);
  Write(shr + kP, 22);
  EXPECT_EQ(m.madvise("p", priv, kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(m.madvise("p", shr, 2 * kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(priv), 0u);
  EXPECT_EQ(Read(priv + kP), 12u);  // outside the range
  EXPECT_EQ(Read(shr), 21u);
  EXPECT_EQ(Read(shr + kP), 22u);
  // The mapping stays, with its protection.
  EXPECT_FALSE(WriteFaults(priv));
}

TEST_F(ModelTest, MadviseWillneedHasNoVisibleEffect) {
  const uint64_t a = MapFixed(0x20000000, 2 * kP);
  Write(a, 5);
  const std::string before = m.digest();
  EXPECT_EQ(m.madvise("p", a, 2 * kP, Advice::kWillneed).status, Status::kOk);
  EXPECT_EQ(Read(a), 5u);
  EXPECT_EQ(m.digest(), before);
}

TEST_F(ModelTest, MadviseAppliesEverywhereThenReportsTheHole) {
  const uint64_t a = MapFixed(0x20000000, kP);
  MapFixed(a + 2 * kP, kP);
  Write(a, 1);
  Write(a + 2 * kP, 2);
  EXPECT_EQ(m.madvise("p", a, 3 * kP, Advice::kDontneed).status, Status::kNoMem);
  EXPECT_EQ(Read(a), 0u);
  EXPECT_EQ(Read(a + 2 * kP), 0u);  // past the hole, advised too
  // Holes at the start or end count too; mapped parts are still advised.
  Write(a, 3);
  EXPECT_EQ(m.madvise("p", a - kP, 2 * kP, Advice::kDontneed).status, Status::kNoMem);
  EXPECT_EQ(Read(a), 0u);
  Write(a + 2 * kP, 4);
  EXPECT_EQ(m.madvise("p", a + 2 * kP, 2 * kP, Advice::kDontneed).status, Status::kNoMem);
  EXPECT_EQ(Read(a + 2 * kP), 0u);
  EXPECT_EQ(m.madvise("p", 0x30000000, kP, Advice::kWillneed).status, Status::kNoMem);
}

TEST_F(ModelTest, MadviseArgumentRules) {
  const uint64_t a = MapFixed(0x20000000, kP);
  Write(a, 9);
  EXPECT_EQ(m.madvise("p", a + 1, kP, Advice::kDontneed).status, Status::kInval);
  EXPECT_EQ(m.madvise("p", a, 0, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(m.madvise("p", 0x30000000, 0, Advice::kDontneed).status, Status::kOk);
  // A range that wraps past 2^64 is einval, as in Linux.
  EXPECT_EQ(m.madvise("p", a, kMax, Advice::kDontneed).status, Status::kInval);
  EXPECT_EQ(m.madvise("p", a, kMax - a + 1, Advice::kDontneed).status, Status::kInval);
  EXPECT_EQ(m.madvise("p", kMax - kP + 1, kP, Advice::kDontneed).status, Status::kInval);
  EXPECT_EQ(m.madvise("p", kUserTop - kP, 2 * kP, Advice::kDontneed).status, Status::kNoMem);
  EXPECT_EQ(Read(a), 9u);  // none of the failures changed anything
  EXPECT_EQ(m.madvise("p", a, 1, Advice::kDontneed).status, Status::kOk);  // rounded up
  EXPECT_EQ(Read(a), 0u);
}

TEST_F(ModelTest, MadvisePastTheTopAdvisesTheMappedPart) {
  const uint64_t a = MapFixed(kUserTop - 2 * kP, 2 * kP);
  Write(a, 7);
  EXPECT_EQ(m.madvise("p", a, 4 * kP, Advice::kDontneed).status, Status::kNoMem);
  EXPECT_EQ(Read(a), 0u);
}

TEST_F(ModelTest, SharedMappingSplitStaysShared) {
  const uint64_t a = MapFixed(0x20000000, 3 * kP, kRw, true);
  Write(a + kP, 77);
  ASSERT_EQ(m.mprotect("p", a + kP, kP, kRo).status, Status::kOk);
  ASSERT_EQ(m.munmap("p", a, kP).status, Status::kOk);
  EXPECT_EQ(m.madvise("p", a + kP, 2 * kP, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(a + kP), 77u);
}

// ---------------------------------------------------------------------------
// brk / sbrk

TEST_F(ModelTest, BrkGrowsAndShrinksTheHeap) {
  ModelOutcome o = m.brk("p", kInitialBreak + 0x1800);
  ASSERT_EQ(o.status, Status::kOk);
  EXPECT_EQ(o.value, kInitialBreak + 0x1800);
  // The heap is page-rounded, private, rw-, zero.
  EXPECT_EQ(Read(kInitialBreak), 0u);
  Write(kInitialBreak + 0x1ff8, 0xabc);
  EXPECT_TRUE(ReadFaults(kInitialBreak + 0x2000));
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 0x1800);
  // Shrinking unmaps from the page-rounded new break.
  ASSERT_EQ(m.brk("p", kInitialBreak + 0x800).status, Status::kOk);
  EXPECT_FALSE(ReadFaults(kInitialBreak + 0xfff));
  EXPECT_TRUE(ReadFaults(kInitialBreak + 0x1000));
  // Growing again gives zero memory.
  ASSERT_EQ(m.brk("p", kInitialBreak + 0x2000).status, Status::kOk);
  EXPECT_EQ(Read(kInitialBreak + 0x1ff8), 0u);
  // Back to the start: nothing mapped.
  ASSERT_EQ(m.brk("p", kInitialBreak).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(kInitialBreak));
}

TEST_F(ModelTest, BrkWithinAPageMapsNothingNew) {
  ASSERT_EQ(m.brk("p", kInitialBreak + 1).status, Status::kOk);
  EXPECT_FALSE(ReadFaults(kInitialBreak + kP - 1));
  ASSERT_EQ(m.brk("p", kInitialBreak + kP).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(kInitialBreak + kP));
  ASSERT_EQ(m.brk("p", kInitialBreak + 2).status, Status::kOk);
  EXPECT_FALSE(ReadFaults(kInitialBreak));
}

TEST_F(ModelTest, BrkErrors) {
  EXPECT_EQ(m.brk("p", kInitialBreak - 1).status, Status::kInval);
  EXPECT_EQ(m.brk("p", 0).status, Status::kInval);
  EXPECT_EQ(m.brk("p", kUserTop + 1).status, Status::kNoMem);
  EXPECT_EQ(m.brk("p", kMax).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak);  // unchanged
}

TEST_F(ModelTest, BrkIntoAMappingIsEnomemAndKeepsTheBreak) {
  ASSERT_EQ(m.brk("p", kInitialBreak + 0x800).status, Status::kOk);
  MapFixed(kInitialBreak + 3 * kP, kP);
  EXPECT_EQ(m.brk("p", kInitialBreak + 3 * kP + 1).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 0x800);
  EXPECT_TRUE(ReadFaults(kInitialBreak + kP));  // nothing was mapped
  // Linux keeps a free page before the next mapping: up to it is refused,
  // up to one page below it is fine.
  EXPECT_EQ(m.brk("p", kInitialBreak + 3 * kP).status, Status::kNoMem);
  ASSERT_EQ(m.brk("p", kInitialBreak + 2 * kP).status, Status::kOk);
  EXPECT_FALSE(ReadFaults(kInitialBreak + 2 * kP - 1));
  // Within the break's last page no new page is needed, so no conflict.
  MapFixed(kInitialBreak + 4 * kP, kP);
  ASSERT_EQ(m.munmap("p", kInitialBreak + 3 * kP, kP).status, Status::kOk);
  ASSERT_EQ(m.brk("p", kInitialBreak + 2 * kP - 1).status, Status::kOk);
  EXPECT_EQ(m.sbrk("p", 1).status, Status::kOk);
  EXPECT_EQ(m.sbrk("p", 1).status, Status::kOk);      // needs page 2, page 3 free
  EXPECT_EQ(m.sbrk("p", kP).status, Status::kNoMem);  // needs page 3, page 4 mapped
}

TEST_F(ModelTest, BrkShrinkOverNothingMappedKeepsTheBreak) {
  ASSERT_EQ(m.brk("p", kInitialBreak + 4 * kP).status, Status::kOk);
  ASSERT_EQ(m.munmap("p", kInitialBreak + 2 * kP, 2 * kP).status, Status::kOk);
  EXPECT_EQ(m.brk("p", kInitialBreak + 2 * kP).status, Status::kNoMem);  // Linux refuses
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 4 * kP);
  EXPECT_EQ(m.sbrk("p", -int64_t(kP)).status, Status::kNoMem);
  // Something left to unmap: the break moves.
  ASSERT_EQ(m.brk("p", kInitialBreak + kP).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(kInitialBreak + kP));
  EXPECT_FALSE(ReadFaults(kInitialBreak));
}

TEST_F(ModelTest, BrkShrinkUnmapsWhateverIsThere) {
  ASSERT_EQ(m.brk("p", kInitialBreak + 4 * kP).status, Status::kOk);
  MapFixed(kInitialBreak + kP, kP, kRo, true);  // replaces a heap page
  ASSERT_EQ(m.brk("p", kInitialBreak).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(kInitialBreak + kP));
}

TEST_F(ModelTest, SbrkReturnsTheOldBreak) {
  ModelOutcome o = m.sbrk("p", 0x1800);
  ASSERT_EQ(o.status, Status::kOk);
  EXPECT_EQ(o.value, kInitialBreak);
  o = m.sbrk("p", -0x800);
  ASSERT_EQ(o.status, Status::kOk);
  EXPECT_EQ(o.value, kInitialBreak + 0x1800);
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 0x1000);
  EXPECT_TRUE(ReadFaults(kInitialBreak + 0x1000));
  Write(kInitialBreak, 1);
}

TEST_F(ModelTest, SbrkErrors) {
  ASSERT_EQ(m.sbrk("p", 0x1000).status, Status::kOk);
  EXPECT_EQ(m.sbrk("p", -0x1001).status, Status::kInval);  // below the initial break
  EXPECT_EQ(m.sbrk("p", std::numeric_limits<int64_t>::min()).status, Status::kInval);
  EXPECT_EQ(m.sbrk("p", std::numeric_limits<int64_t>::max()).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", int64_t(kUserTop - kInitialBreak - 0x1000) + 1).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 0x1000);
  // Into a mapping.
  MapFixed(kInitialBreak + 0x2000, kP);
  EXPECT_EQ(m.sbrk("p", 0x1001).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", 0).value, kInitialBreak + 0x1000);
}

TEST_F(ModelTest, BrkCanReachTheTopOfUserSpace) {
  ASSERT_EQ(m.brk("p", kUserTop).status, Status::kOk);  // one sparse mapping
  Write(kUserTop - 8, 5);
  EXPECT_EQ(m.sbrk("p", 1).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", std::numeric_limits<int64_t>::max()).status, Status::kNoMem);
  EXPECT_EQ(m.sbrk("p", 0).value, kUserTop);
  EXPECT_EQ(MmapStatus(std::nullopt, kP, false), Status::kOk);  // below the heap
  ASSERT_EQ(m.brk("p", kInitialBreak).status, Status::kOk);
  EXPECT_TRUE(ReadFaults(kUserTop - 8));
}

// ---------------------------------------------------------------------------
// Accesses

TEST_F(ModelTest, AccessOutsideMappingsIsSegv) {
  const uint64_t a = MapFixed(0x20000000, kP);
  EXPECT_TRUE(ReadFaults(a - 1));
  EXPECT_TRUE(ReadFaults(a + kP));
  EXPECT_TRUE(WriteFaults(a + kP));
  EXPECT_TRUE(ReadFaults(0));
  EXPECT_TRUE(ReadFaults(kUserTop));
  EXPECT_TRUE(ReadFaults(kMax));
  ModelOutcome o = m.read("p", 0x30000008, 8);
  EXPECT_EQ(o.signal, Signal::kSegv);
  EXPECT_EQ(o.fault_addr, 0x30000008u);
}

TEST_F(ModelTest, AccessChecksFollowX86) {
  const uint64_t none = MapFixed(0x20000000, kP, kNone);
  const uint64_t ro = MapFixed(0x20010000, kP, kRo);
  const uint64_t wo = MapFixed(0x20020000, kP, kWo);
  const uint64_t xo = MapFixed(0x20030000, kP, kXo);
  const uint64_t rx = MapFixed(0x20040000, kP, kRx);
  EXPECT_TRUE(ReadFaults(none));
  EXPECT_TRUE(WriteFaults(none));
  EXPECT_FALSE(ReadFaults(ro));
  EXPECT_TRUE(WriteFaults(ro));
  EXPECT_FALSE(ReadFaults(wo));  // w implies readable
  EXPECT_FALSE(WriteFaults(wo));
  EXPECT_FALSE(ReadFaults(xo));  // x implies readable
  EXPECT_TRUE(WriteFaults(xo));
  EXPECT_FALSE(ReadFaults(rx));
  EXPECT_TRUE(WriteFaults(rx));
  EXPECT_EQ(Read(wo, 1), 0x5au);  // the write through -w- landed
}

TEST_F(ModelTest, ValuesAreLittleEndian) {
  const uint64_t a = MapFixed(0x20000000, kP);
  Write(a, 0x0102030405060708, 8);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(Read(a + i, 1), 8 - i);
  EXPECT_EQ(Read(a, 2), 0x0708u);
  EXPECT_EQ(Read(a + 2, 2), 0x0506u);
  EXPECT_EQ(Read(a + 4, 4), 0x01020304u);
  Write(a + 8, 0xffffffffaabbccdd, 4);  // only the low 4 bytes are stored
  EXPECT_EQ(Read(a + 8, 8), 0xaabbccddu);
  Write(a + 14, 0x1122, 2);
  EXPECT_EQ(Read(a + 8, 8), 0x11220000aabbccddu);
  Write(a + kP - 8, kMax, 8);
  EXPECT_EQ(Read(a + kP - 8, 8), kMax);
  EXPECT_EQ(Read(a + kP - 1, 1), 0xffu);
}

// ---------------------------------------------------------------------------
// touch

TEST_F(ModelTest, TouchWritesOneByteAtEveryStride) {
  const uint64_t a = MapFixed(0x20000000, 3 * kP);
  ModelOutcome o = m.touch("p", a, 3 * kP, kP, /*write=*/true, 0xee);
  EXPECT_EQ(o.signal, Signal::kNone);
  EXPECT_EQ(o.steps_done, 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Read(a + i * kP, 1), 0xeeu);
    EXPECT_EQ(Read(a + i * kP + 1, 1), 0u);
  }
  o = m.touch("p", a + 1, 5, 1, true, 0x11);
  EXPECT_EQ(o.steps_done, 5u);
  EXPECT_EQ(Read(a, 8), 0x00001111111111eeu);
  // len need not be a multiple of the stride: offsets 0 and 4096 are below 4097.
  EXPECT_EQ(m.touch("p", a, kP + 1, kP, false, 0).steps_done, 2u);
  EXPECT_EQ(m.touch("p", a, kP, kP, false, 0).steps_done, 1u);
  // A stride larger than the range: one access, and no overflow.
  EXPECT_EQ(m.touch("p", a, 10, kMax, false, 0).steps_done, 1u);
}

TEST_F(ModelTest, TouchOfNothingDoesNothing) {
  ModelOutcome o = m.touch("p", 0x30000000, 0, kP, true, 1);  // unmapped, but no access
  EXPECT_EQ(o.signal, Signal::kNone);
  EXPECT_EQ(o.steps_done, 0u);
}

TEST_F(ModelTest, TouchStopsAtTheFirstSignal) {
  const uint64_t a = MapFixed(0x20000000, 2 * kP);
  MapFixed(a + 3 * kP, kP);
  ModelOutcome o = m.touch("p", a, 4 * kP, kP, true, 0x77);
  EXPECT_EQ(o.signal, Signal::kSegv);
  EXPECT_EQ(o.fault_addr, a + 2 * kP);
  EXPECT_EQ(o.steps_done, 2u);
  EXPECT_EQ(Read(a + kP, 1), 0x77u);   // done before the signal
  EXPECT_EQ(Read(a + 3 * kP, 1), 0u);  // never reached
  // Write touch on a read-only mapping fails at its first step.
  ASSERT_EQ(m.mprotect("p", a, 2 * kP, kRo).status, Status::kOk);
  o = m.touch("p", a + 8, kP, 16, true, 1);
  EXPECT_EQ(o.signal, Signal::kSegv);
  EXPECT_EQ(o.fault_addr, a + 8);
  EXPECT_EQ(o.steps_done, 0u);
  // A read touch passes.
  o = m.touch("p", a, 2 * kP, 16, false, 0);
  EXPECT_EQ(o.signal, Signal::kNone);
  EXPECT_EQ(o.steps_done, 2 * kP / 16);
}

TEST_F(ModelTest, TouchRunningPastTheTopOfAddressSpace) {
  MapFixed(kUserTop - kP, kP);
  ModelOutcome o = m.touch("p", kUserTop - kP, kMax, kP, false, 0);
  EXPECT_EQ(o.signal, Signal::kSegv);
  EXPECT_EQ(o.fault_addr, kUserTop);
  EXPECT_EQ(o.steps_done, 1u);
  o = m.touch("p", kMax, 2, 1, false, 0);  // second step would wrap to 0
  EXPECT_EQ(o.signal, Signal::kSegv);
  EXPECT_EQ(o.fault_addr, kMax);
  EXPECT_EQ(o.steps_done, 0u);
}

// ---------------------------------------------------------------------------
// Large mappings cost nothing per page.

TEST_F(ModelTest, HugeMappingsAreSparse) {
  const uint64_t len = uint64_t{64} << 30;  // 64 GiB
  const uint64_t a = Map(len);
  EXPECT_EQ(a, kMmapTop - len);
  Write(a + len - 8, 1);
  Write(a, 2);
  ASSERT_EQ(m.mprotect("p", a + len / 2 + kP, kP, kRo).status, Status::kOk);
  EXPECT_EQ(Read(a + len - 8), 1u);
  EXPECT_EQ(m.touch("p", a, len, uint64_t{1} << 30, true, 3).steps_done, 64u);
  EXPECT_EQ(m.madvise("p", a, len, Advice::kDontneed).status, Status::kOk);
  EXPECT_EQ(Read(a), 0u);
  EXPECT_EQ(m.digest().size(), 64u);
  EXPECT_EQ(m.munmap("p", a, len).status, Status::kOk);
}

// ---------------------------------------------------------------------------
// Digest

std::string PageRecord(uint64_t va, const std::string& bytes) {
  std::string page(4096, '\0');
  page.replace(0, bytes.size(), bytes);
  return "page " + Hex16(va) + "\n" + page;
}

TEST(ModelDigest, EmptyModel) {
  Model m;
  EXPECT_EQ(m.digest(), Sha256Hex("vmsim-digest/1\n"));
}

TEST(ModelDigest, HandWrittenStream) {
  Model m;
  // Created out of order; reported bytewise: "A" < "a" < "b".
  m.create_process("b");
  m.create_process("a");
  m.create_process("A");
  // a: two pages rw- private with data in the second, three pages split by
  // mprotect, and a page written with zeros (left out of the page list).
  ASSERT_EQ(m.mmap("a", 0x10000, 2 * kP, kRw, false, true, false).status, Status::kOk);
  ASSERT_EQ(m.write("a", 0x11008, 4, 0x04030201).signal, Signal::kNone);
  ASSERT_EQ(m.mmap("a", 0x30000, 3 * kP, kRw, false, true, false).status, Status::kOk);
  ASSERT_EQ(m.mprotect("a", 0x31000, kP, kRx).status, Status::kOk);
  ASSERT_EQ(m.write("a", 0x32000, 8, 0).signal, Signal::kNone);
  ASSERT_EQ(m.write("a", 0x30ff8, 8, 0xff00000000000000).signal, Signal::kNone);
  // b: a shared r-- page and a -w- page right after it; the heap.
  ASSERT_EQ(m.mmap("b", 0x20000, kP, kRo, true, true, false).status, Status::kOk);
  ASSERT_EQ(m.mmap("b", 0x21000, kP, kWo, false, true, false).status, Status::kOk);
  ASSERT_EQ(m.sbrk("b", 1).status, Status::kOk);
  ASSERT_EQ(m.write("b", 0x10000000, 1, 0x2a).signal, Signal::kNone);

  std::string s = "vmsim-digest/1\n";
  s += "process A\n";
  s += "process a\n";
  s += "run 0000000000010000 0000000000012000 rw- private anon\n";
  s += "run 0000000000030000 0000000000031000 rw- private anon\n";
  s += "run 0000000000031000 0000000000032000 r-x private anon\n";
  s += "run 0000000000032000 0000000000033000 rw- private anon\n";
  s += PageRecord(0x11000, std::string(8, '\0') + "\x01\x02\x03\x04");
  s += PageRecord(0x30000, std::string(4095, '\0') + "\xff");
  s += "process b\n";  // runs ascend by start: the heap comes last
  s += "run 0000000000020000 0000000000021000 r-- shared anon\n";
  s += "run 0000000000021000 0000000000022000 -w- private anon\n";
  s += "run 0000000010000000 0000000010001000 rw- private anon\n";
  s += PageRecord(0x10000000, "\x2a");

  EXPECT_EQ(m.digest(), Sha256Hex(s));
}

TEST(ModelDigest, IndependentOfHowTheStateWasBuilt) {
  // One mapping written in place...
  Model one;
  one.create_process("p");
  ASSERT_EQ(one.mmap("p", 0x20000000, 4 * kP, kRw, false, true, false).status, Status::kOk);
  ASSERT_EQ(one.write("p", 0x20000000, 8, 1).signal, Signal::kNone);
  ASSERT_EQ(one.write("p", 0x20003ff8, 8, 4).signal, Signal::kNone);

  // ...equals two adjacent mappings with the same writes,
  Model two;
  two.create_process("p");
  ASSERT_EQ(two.mmap("p", 0x20002000, 2 * kP, kRw, false, true, false).status, Status::kOk);
  ASSERT_EQ(two.mmap("p", 0x20000000, 2 * kP, kRw, false, true, false).status, Status::kOk);
  ASSERT_EQ(two.write("p", 0x20003ff8, 8, 4).signal, Signal::kNone);
  ASSERT_EQ(two.write("p", 0x20000000, 8, 1).signal, Signal::kNone);
  EXPECT_EQ(one.digest(), two.digest());

  // ...and a mapping split by mprotect and restored, with a page that was
  // written and then cleared by dontneed or by writing zeros.
  Model three;
  three.create_process("p");
  ASSERT_EQ(three.mmap("p", 0x20000000, 4 * kP, kRo, false, true, false).status, Status::kOk);
  ASSERT_EQ(three.mprotect("p", 0x20001000, kP, kNone).status, Status::kOk);
  ASSERT_EQ(three.mprotect("p", 0x20000000, 4 * kP, kRw).status, Status::kOk);
  ASSERT_EQ(three.write("p", 0x20001000, 8, 9).signal, Signal::kNone);
  ASSERT_EQ(three.write("p", 0x20002000, 8, 9).signal, Signal::kNone);
  ASSERT_EQ(three.madvise("p", 0x20001000, kP, Advice::kDontneed).status, Status::kOk);
  ASSERT_EQ(three.write("p", 0x20002000, 8, 0).signal, Signal::kNone);
  ASSERT_EQ(three.write("p", 0x20000000, 8, 1).signal, Signal::kNone);
  ASSERT_EQ(three.write("p", 0x20003ff8, 8, 4).signal, Signal::kNone);
  EXPECT_EQ(one.digest(), three.digest());

  // The heap grown in steps equals one private anonymous mapping.
  Model heap_steps;
  heap_steps.create_process("p");
  ASSERT_EQ(heap_steps.sbrk("p", 100).status, Status::kOk);
  ASSERT_EQ(heap_steps.sbrk("p", 2 * kP).status, Status::kOk);
  ASSERT_EQ(heap_steps.brk("p", kInitialBreak + 3 * kP).status, Status::kOk);
  Model heap_map;
  heap_map.create_process("p");
  ASSERT_EQ(heap_map.mmap("p", kInitialBreak, 3 * kP, kRw, false, true, false).status, Status::kOk);
  EXPECT_EQ(heap_steps.digest(), heap_map.digest());
}

TEST(ModelDigest, SeesProtectionSharingAndContent) {
  auto build = [](uint8_t prot, bool shared, uint64_t value) {
    Model m;
    m.create_process("p");
    EXPECT_EQ(m.mmap("p", 0x20000000, kP, prot, shared, true, false).status, Status::kOk);
    if (value != 0) {
      EXPECT_EQ(m.write("p", 0x20000000, 8, value).signal, Signal::kNone);
    }
    return m.digest();
  };
  const std::string base = build(kRw, false, 0);
  EXPECT_NE(base, build(kRw | kX, false, 0));
  EXPECT_NE(base, build(kRw, true, 0));
  EXPECT_NE(base, build(kRw, false, 1));
  EXPECT_EQ(base, build(kRw, false, 0));
  // An empty process still shows in the digest.
  Model with_q;
  with_q.create_process("p");
  with_q.create_process("q");
  ASSERT_EQ(with_q.mmap("p", 0x20000000, kP, kRw, false, true, false).status, Status::kOk);
  EXPECT_NE(base, with_q.digest());
}

}  // namespace
}  // namespace vmsim
