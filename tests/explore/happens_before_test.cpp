// The happens-before order of a run's segments, its races and the initials
// of a race's reversal (explore/happens_before.hpp).
#include "explore/happens_before.hpp"

#include <gtest/gtest.h>

namespace vmsim::explore {
namespace {

Segment seg(size_t thread, std::vector<uint64_t> reads, std::vector<uint64_t> writes) {
  Segment s;
  s.thread = thread;
  for (uint64_t r : reads) s.footprint.read(r);
  for (uint64_t w : writes) s.footprint.write(w);
  return s;
}

TEST(HappensBefore, ReadsDoNotConflictWritesDo) {
  std::vector<Segment> run = {seg(0, {1}, {}), seg(1, {1}, {}), seg(1, {}, {1})};
  HappensBefore hb(run, 0, run.size());
  EXPECT_FALSE(hb.before(0, 1));
  EXPECT_TRUE(hb.before(0, 2));  // read then write of cell 1
  EXPECT_TRUE(hb.before(1, 2));  // one thread
  ASSERT_EQ(hb.races().size(), 1u);
  EXPECT_EQ(hb.races()[0].i, 0u);
  EXPECT_EQ(hb.races()[0].j, 2u);
}

TEST(HappensBefore, AnOrderThroughAThirdSegmentIsNoRace) {
  // 0 writes x; 1 reads x, writes y; 2 reads x and y: 0 -> 1 -> 2, so (0, 2)
  // is ordered through 1 and only (0, 1) and (1, 2) race.
  std::vector<Segment> run = {seg(0, {}, {10}), seg(1, {10}, {20}), seg(2, {10, 20}, {})};
  HappensBefore hb(run, 0, run.size());
  ASSERT_EQ(hb.races().size(), 2u);
  EXPECT_EQ(hb.races()[0].i, 0u);
  EXPECT_EQ(hb.races()[0].j, 1u);
  EXPECT_EQ(hb.races()[1].i, 1u);
  EXPECT_EQ(hb.races()[1].j, 2u);
}

TEST(HappensBefore, InitialsOfAReversal) {
  // 0: t0 writes x. 1: t1 writes z (independent). 2: t2 reads z (after 1).
  // 3: t2 writes x, racing with 0. notdep(0).3 = [1, 2, 3]: t1 can go
  // first; t2's first segment there (2) waits for 1.
  std::vector<Segment> run = {seg(0, {}, {1}), seg(1, {}, {3}), seg(2, {3}, {}), seg(2, {}, {1})};
  HappensBefore hb(run, 0, run.size());
  Race race{0, 3};
  EXPECT_EQ(hb.initials(race), std::vector<size_t>{1});
}

TEST(HappensBefore, EquivalentRunsShareTheirClass) {
  std::vector<Segment> a = {seg(0, {}, {1}), seg(1, {}, {2}), seg(0, {}, {1})};
  std::vector<Segment> b = {seg(1, {}, {2}), seg(0, {}, {1}), seg(0, {}, {1})};
  std::vector<Segment> c = {seg(0, {}, {1}), seg(1, {}, {1}), seg(0, {}, {1})};
  std::vector<Segment> d = {seg(0, {}, {1}), seg(0, {}, {1}), seg(1, {}, {1})};
  EXPECT_EQ(HappensBefore(a, 0, 0).class_hash(), HappensBefore(b, 0, 0).class_hash());
  EXPECT_NE(HappensBefore(c, 0, 0).class_hash(), HappensBefore(d, 0, 0).class_hash());
}

}  // namespace
}  // namespace vmsim::explore
