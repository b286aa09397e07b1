// ScheduleLog: the steps a run took, in the trace's own syntax, as both the
// simulator and the port print them.
#include <gtest/gtest.h>

#include <vector>

#include "sched/schedule_log.hpp"

namespace {

using replay::LoggedStep;
using replay::PointKind;
using replay::ScheduleLog;
using replay::StepKind;
using vm::YieldPoint;

class Steps final : public replay::StepSink {
 public:
  void taken(const LoggedStep& step) override { steps.push_back(step); }
  std::vector<LoggedStep> steps;
};

void expect_step(const LoggedStep& s, StepKind kind, size_t thread, vm::u64 ops,
                 YieldPoint point = YieldPoint::kCount, vm::u64 count = 1) {
  EXPECT_EQ(s.kind, kind);
  EXPECT_EQ(s.thread, thread);
  if (kind == StepKind::kOps) {
    EXPECT_EQ(s.ops, ops);
  }
  if (kind == StepKind::kUntil) {
    EXPECT_EQ(s.point, point);
    EXPECT_EQ(s.count, count);
  }
}

TEST(ScheduleLog, WholeOpsOfOneThreadMakeOneOpsStep) {
  Steps out;
  ScheduleLog log(out);
  log.chosen(0);
  log.segment(0, PointKind::kOpEnd, YieldPoint::kCount);
  log.chosen(0);
  log.segment(0, PointKind::kYield, YieldPoint::kFaultBegin);  // went on: no switch
  log.chosen(0);
  log.segment(0, PointKind::kDone, YieldPoint::kCount);
  log.chosen(1);
  log.segment(1, PointKind::kOpEnd, YieldPoint::kCount);
  log.close();
  ASSERT_EQ(out.steps.size(), 2u);
  expect_step(out.steps[0], StepKind::kOps, 0, 2);
  expect_step(out.steps[1], StepKind::kOps, 1, 1);
  EXPECT_EQ(log.steps_taken(), 2u);
}

TEST(ScheduleLog, StopAtAYieldPointIsAnUntilStepCountingSinceTheLastOpEnd) {
  Steps out;
  ScheduleLog log(out);
  log.segment(0, PointKind::kYield, YieldPoint::kFaultBegin);
  log.segment(0, PointKind::kOpEnd, YieldPoint::kCount);  // clears the count
  log.segment(0, PointKind::kYield, YieldPoint::kFaultBegin);
  log.segment(0, PointKind::kYield, YieldPoint::kCowCopy);
  log.segment(0, PointKind::kYield, YieldPoint::kFaultBegin);
  log.chosen(1);
  ASSERT_EQ(out.steps.size(), 2u);
  expect_step(out.steps[0], StepKind::kOps, 0, 1);
  expect_step(out.steps[1], StepKind::kUntil, 0, 0, YieldPoint::kFaultBegin, 2);
}

TEST(ScheduleLog, BlockedThreadEndsWithARunStep) {
  Steps out;
  ScheduleLog log(out);
  log.segment(1, PointKind::kBlocked, YieldPoint::kCount);
  log.chosen(0);
  log.segment(0, PointKind::kOpEnd, YieldPoint::kCount);
  EXPECT_EQ(log.steps_taken(), 1u);  // thread 0's step is still open
  log.close();
  log.close();  // closing twice adds nothing
  ASSERT_EQ(out.steps.size(), 2u);
  expect_step(out.steps[0], StepKind::kRun, 1, 0);
  expect_step(out.steps[1], StepKind::kOps, 0, 1);
}

}  // namespace
