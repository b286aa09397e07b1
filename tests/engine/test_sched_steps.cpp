// ScheduleSteps: the schedule semantics both the simulator and the port run
// (spec §4): steps of each kind, their errors, then each policy.
#include <gtest/gtest.h>

#include <vector>

#include "sched/schedule_steps.hpp"
#include "sched/yield_point_named.hpp"

namespace {

using replay::PointKind;
using replay::Policy;
using replay::SchedulePoint;
using replay::ScheduleSteps;
using replay::Step;
using replay::StepErrorKind;
using replay::StepKind;
using vm::YieldPoint;

// Ops left per thread, as a run would answer.
class Progress final : public replay::ThreadProgress {
 public:
  explicit Progress(std::vector<vm::u64> left) : left_(std::move(left)) {}
  vm::u64 ops_left(size_t thread) const override { return left_[thread]; }

 private:
  std::vector<vm::u64> left_;
};

// A scheduling point over an enabled set the test keeps alive.
struct Point {
  std::vector<size_t> enabled;
  SchedulePoint sp;

  Point(PointKind kind, long current, std::vector<size_t> e, YieldPoint point = YieldPoint::kCount)
      : enabled(std::move(e)) {
    sp.kind = kind;
    sp.current = current;
    sp.point = point;
    sp.enabled = enabled.data();
    sp.enabled_count = enabled.size();
  }
};

Step ops_step(long thread, vm::u64 ops) {
  Step s;
  s.kind = StepKind::kOps;
  s.thread = thread;
  s.ops = ops;
  return s;
}

Step until_step(long thread, YieldPoint point, vm::u64 count) {
  Step s;
  s.kind = StepKind::kUntil;
  s.thread = thread;
  s.point = point;
  s.count = count;
  return s;
}

Step run_step(long thread) {
  Step s;
  s.thread = thread;
  return s;
}

TEST(ScheduleSteps, RoundRobinRunsWholeOpsInDeclarationOrder) {
  ScheduleSteps s(nullptr, 0, 3, Policy::kRoundRobin, 0);
  const Progress p({2, 2, 2});
  EXPECT_EQ(s.choose(Point(PointKind::kStart, -1, {0, 1, 2}).sp, p), 0u);
  // A yield point inside the op does not switch.
  EXPECT_EQ(s.choose(Point(PointKind::kYield, 0, {0, 1, 2}, YieldPoint::kFaultBegin).sp, p), 0u);
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 0, {0, 1, 2}).sp, p), 1u);
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 1, {0, 1, 2}).sp, p), 2u);
  // Thread 0 blocked: the search goes on past it.
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 2, {1, 2}).sp, p), 1u);
  EXPECT_FALSE(s.failed());
}

TEST(ScheduleSteps, SequentialRunsTheCurrentThreadToItsEnd) {
  ScheduleSteps s(nullptr, 0, 2, Policy::kSequential, 0);
  const Progress p({2, 2});
  EXPECT_EQ(s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p), 0u);
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 0, {0, 1}).sp, p), 0u);
  EXPECT_EQ(s.choose(Point(PointKind::kDone, 0, {1}).sp, p), 1u);
}

TEST(ScheduleSteps, RandomPolicyIsFixedBySeedAndPicksOnlyEnabledThreads) {
  std::vector<size_t> first, again;
  for (std::vector<size_t>* out : {&first, &again}) {
    ScheduleSteps s(nullptr, 0, 4, Policy::kRandom, 42);
    const Progress p({9, 9, 9, 9});
    for (int i = 0; i < 32; ++i) {
      const size_t t = s.choose(Point(PointKind::kYield, 1, {1, 2, 3}).sp, p);
      EXPECT_NE(t, 0u);
      out->push_back(t);
    }
  }
  EXPECT_EQ(first, again);
  // splitmix64 from seed 42: the first output, as both machines compute it.
  vm::u64 state = 42;
  EXPECT_EQ(replay::next_random(state), 0xbdd732262feb6e95ull);
  EXPECT_EQ(first[0], size_t{1} + 0xbdd732262feb6e95ull % 3);
}

TEST(ScheduleSteps, OpsStepEndsAfterItsOpsThenThePolicyTakesOver) {
  const Step steps[] = {ops_step(1, 2)};
  ScheduleSteps s(steps, 1, 2, Policy::kRoundRobin, 0);
  const Progress p({3, 3});
  EXPECT_EQ(s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p), 1u);
  EXPECT_EQ(s.choose(Point(PointKind::kYield, 1, {0, 1}, YieldPoint::kCowCopy).sp, p), 1u);
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 1, {0, 1}).sp, p), 1u);
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 1, {0, 1}).sp, p), 0u);  // round robin
}

TEST(ScheduleSteps, UntilStepStopsAtTheCountthVisitOfItsPoint) {
  const Step steps[] = {until_step(0, YieldPoint::kFaultBegin, 2), run_step(1)};
  ScheduleSteps s(steps, 2, 2, Policy::kRoundRobin, 0);
  const Progress p({1, 1});
  EXPECT_EQ(s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p), 0u);
  EXPECT_EQ(s.choose(Point(PointKind::kYield, 0, {0, 1}, YieldPoint::kFaultBegin).sp, p), 0u);
  EXPECT_EQ(s.choose(Point(PointKind::kYield, 0, {0, 1}, YieldPoint::kCowCopy).sp, p), 0u);
  EXPECT_EQ(s.choose(Point(PointKind::kYield, 0, {0, 1}, YieldPoint::kFaultBegin).sp, p), 1u);
  // {thread 1} runs until it blocks.
  EXPECT_EQ(s.choose(Point(PointKind::kYield, 1, {0, 1}, YieldPoint::kFaultBegin).sp, p), 1u);
  EXPECT_EQ(s.choose(Point(PointKind::kBlocked, 1, {0}).sp, p), 0u);
  EXPECT_FALSE(s.failed());
}

TEST(ScheduleSteps, UntilStepWhoseOpEndsFirstIsAnErrorCountingTheVisits) {
  const Step steps[] = {until_step(0, YieldPoint::kFaultBegin, 3)};
  ScheduleSteps s(steps, 1, 1, Policy::kRoundRobin, 0);
  const Progress p({2});
  s.choose(Point(PointKind::kStart, -1, {0}).sp, p);
  s.choose(Point(PointKind::kYield, 0, {0}, YieldPoint::kFaultBegin).sp, p);
  EXPECT_EQ(s.choose(Point(PointKind::kOpEnd, 0, {0}).sp, p), 0u);
  ASSERT_TRUE(s.failed());
  EXPECT_EQ(s.error().kind, StepErrorKind::kUntilOpEnded);
  EXPECT_EQ(s.error().step, 0u);
  EXPECT_EQ(s.error().hits, 1u);
}

TEST(ScheduleSteps, UntilStepWhoseThreadBlocksOrFinishesIsAnError) {
  for (PointKind end : {PointKind::kBlocked, PointKind::kDone}) {
    const Step steps[] = {until_step(0, YieldPoint::kTlbShootdown, 1)};
    ScheduleSteps s(steps, 1, 2, Policy::kRoundRobin, 0);
    const Progress p({1, 1});
    s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p);
    s.choose(Point(end, 0, {1}).sp, p);
    ASSERT_TRUE(s.failed());
    EXPECT_EQ(s.error().kind, end == PointKind::kBlocked ? StepErrorKind::kUntilBlocked
                                                         : StepErrorKind::kUntilFinished);
    EXPECT_EQ(s.error().thread, 0u);
  }
}

TEST(ScheduleSteps, StepErrorsNameTheFailingStep) {
  const Progress p({1, 1});
  {
    const Step steps[] = {ops_step(0, 1), run_step(1), run_step(1)};
    ScheduleSteps s(steps, 3, 2, Policy::kRoundRobin, 0);
    EXPECT_EQ(s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p), 0u);
    EXPECT_EQ(s.choose(Point(PointKind::kDone, 0, {1}).sp, p), 1u);
    s.choose(Point(PointKind::kDone, 1, {}).sp, p);
    ASSERT_TRUE(s.failed());
    EXPECT_EQ(s.error().kind, StepErrorKind::kNotRunnable);
    EXPECT_EQ(s.error().step, 2u);
    EXPECT_EQ(s.error().thread, 1u);
  }
  {
    const Step steps[] = {ops_step(1, 5)};
    ScheduleSteps s(steps, 1, 2, Policy::kRoundRobin, 0);
    s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p);
    EXPECT_EQ(s.error().kind, StepErrorKind::kTooFewOps);
    EXPECT_EQ(s.error().ops_left, 1u);
  }
  {
    const Step steps[] = {run_step(replay::kNoThread)};
    ScheduleSteps s(steps, 1, 2, Policy::kRoundRobin, 0);
    s.choose(Point(PointKind::kStart, -1, {0, 1}).sp, p);
    EXPECT_EQ(s.error().kind, StepErrorKind::kNoSuchThread);
  }
}

TEST(YieldPointNamed, FindsEveryCatalogueNameAndNothingElse) {
  for (size_t i = 0; i < static_cast<size_t>(YieldPoint::kCount); ++i) {
    const std::string copy = replay::kYieldPointNames[i];  // not the catalogue's pointer
    EXPECT_EQ(replay::yield_point_named(copy.c_str()), static_cast<YieldPoint>(i));
  }
  EXPECT_EQ(replay::yield_point_named("fault.begi"), YieldPoint::kCount);
  EXPECT_EQ(replay::yield_point_named("fault.begin.x"), YieldPoint::kCount);
  EXPECT_EQ(replay::yield_point_named(nullptr), YieldPoint::kCount);
}

}  // namespace
