// The bounded and PCT searches on synthetic programs (fake_program.hpp),
// where the interleavings and the bug are known.
#include <gtest/gtest.h>

#include <set>

#include "explore/report_json.hpp"
#include "explore/search.hpp"
#include "explore/worker_pool.hpp"
#include "fake_program.hpp"

namespace vmsim::explore {
namespace {

using testing::FakeProgram;
using testing::FakeThread;
using testing::lost_update;
using testing::store;

// por: sleep sets (the tests below that know their exact run counts), or
// `reduction` when given.
ExploreOptions bounded(size_t bound, bool por = true, bool stop_on_first = false,
                       Reduction reduction = Reduction::kSleepSets) {
  ExploreOptions o;
  o.bound = bound;
  o.reduction = por ? reduction : Reduction::kNone;
  o.stop_on_first = stop_on_first;
  return o;
}

std::string json_of(ExploreReport r) {
  r.shard = Shard{};  // a merged report and a whole one differ only here
  return report_to_json(r).dump();
}

// Two threads of `ops` single-step ops that all write one cell: every order
// of ops is a different state.
FakeProgram conflicting_ops(size_t ops) {
  FakeProgram p;
  for (const char* name : {"a", "b"}) {
    FakeThread t{name, {}};
    for (size_t i = 0; i < ops; ++i) t.ops.push_back({store(0, name[0] * 10 + i)});
    p.threads.push_back(t);
  }
  return p;
}

TEST(BoundedSearch, BoundZeroRunsEveryOrderOfWholeOpsOnce) {
  FakeProgram p = conflicting_ops(2);
  ExploreReport r = explore(p.run_once(), 2, bounded(0));
  EXPECT_EQ(r.runs(), 6u);  // C(4, 2) orders of two threads' two ops
  EXPECT_TRUE(r.failures.empty());
  EXPECT_FALSE(r.beyond_bound);  // single-step ops: nothing to preempt
  EXPECT_EQ(coverage_of(r), "exhaustive");
}

TEST(BoundedSearch, LostUpdateNeedsOnePreemption) {
  FakeProgram p = lost_update();
  ExploreReport at0 = explore(p.run_once(), 2, bounded(0));
  EXPECT_TRUE(at0.failures.empty());
  EXPECT_TRUE(at0.beyond_bound);
  EXPECT_EQ(coverage_of(at0), "exhaustive to bound 0");

  ExploreReport at1 = explore(p.run_once(), 2, bounded(1));
  ASSERT_EQ(at1.failures.count("read-mismatch"), 1u);
  const Failure& f = at1.failures.at("read-mismatch");
  EXPECT_EQ(f.level, 1u);
  // a loads, b preempts it and runs whole, a stores: three steps.
  ASSERT_EQ(f.schedule.size(), 3u);
  EXPECT_EQ(f.schedule[0].kind, TakenStep::Kind::kUntil);
  EXPECT_EQ(at1.levels.at(0).violating_runs, 0u);
}

TEST(BoundedSearch, LowerBoundsAreNotRunAgain) {
  FakeProgram p = lost_update();
  ExploreReport at1 = explore(p.run_once(), 2, bounded(1, false));
  ExploreReport at2 = explore(p.run_once(), 2, bounded(2, false));
  EXPECT_EQ(at2.levels.at(0).runs, at1.levels.at(0).runs);
  EXPECT_EQ(at2.levels.at(1).runs, at1.levels.at(1).runs);
  EXPECT_EQ(at2.runs(), at1.runs() + at2.levels.at(2).runs);
  // Without reduction, level 0 is the two orders of the two ops.
  EXPECT_EQ(at1.levels.at(0).runs, 2u);
}

TEST(BoundedSearch, StopOnFirstFinishesTheFailingBound) {
  FakeProgram p = lost_update();
  ExploreReport r = explore(p.run_once(), 2, bounded(2, true, true));
  ASSERT_TRUE(r.stopped_at.has_value());
  EXPECT_EQ(*r.stopped_at, 1u);
  EXPECT_EQ(r.levels.count(2), 0u);
  EXPECT_FALSE(r.failures.empty());
}

TEST(BoundedSearch, SleepSetsRunFewerInterleavingsWithTheSameVerdict) {
  FakeProgram p = lost_update(2);
  for (size_t bound : {0u, 1u, 2u}) {
    ExploreReport with = explore(p.run_once(), 4, bounded(bound, true));
    ExploreReport without = explore(p.run_once(), 4, bounded(bound, false));
    EXPECT_LT(with.runs(), without.runs()) << "bound " << bound;
    EXPECT_EQ(with.failures.size(), without.failures.size()) << "bound " << bound;
    EXPECT_EQ(with.failures.empty(), bound == 0);
    // Independent threads only permute: the final states are the same set.
    EXPECT_EQ(with.outcomes.size(), without.outcomes.size()) << "bound " << bound;
  }
}

TEST(BoundedSearch, IndependentThreadsNeedOneRunWithSleepSets) {
  FakeProgram p;
  for (size_t i = 0; i < 3; ++i)
    p.threads.push_back(FakeThread{"t" + std::to_string(i), {{store(i, 1)}, {store(i, 2)}}});
  ExploreReport with = explore(p.run_once(), 3, bounded(0, true));
  ExploreReport without = explore(p.run_once(), 3, bounded(0, false));
  EXPECT_EQ(without.runs(), 90u);  // 6! / (2! 2! 2!)
  // Sleep sets prune every redundant branch, but a stateless run cannot
  // stop where it turns redundant: the branches that start with a thread
  // whose sibling sleeps still run to their end once.
  EXPECT_LE(with.runs() * 9, without.runs());
  EXPECT_EQ(with.outcomes.size(), 1u);
}

TEST(BoundedSearch, ShardsTogetherAreTheWholeSearch) {
  FakeProgram p = lost_update(1, 2);
  for (bool por : {true, false}) {
    ExploreOptions o = bounded(2, por);
    ExploreReport whole = explore(p.run_once(), 3, o);
    std::vector<ExploreReport> parts;
    for (size_t i = 0; i < 3; ++i) {
      o.shard = Shard{i, 3};
      parts.push_back(explore(p.run_once(), 3, o));
    }
    EXPECT_GT(parts[1].runs(), 0u);
    EXPECT_GT(parts[2].runs(), 0u);
    EXPECT_EQ(json_of(merge_reports(parts)), json_of(whole)) << "por " << por;
  }
}

TEST(BoundedSearch, WorkerProcessesGiveTheSameReportWhateverTheirNumber) {
  FakeProgram p = lost_update(1, 2);
  ExploreOptions o = bounded(2, true, true);
  const std::string whole = json_of(explore(p.run_once(), 3, o));
  for (size_t jobs : {1u, 2u, 4u}) {
    ExploreReport r = explore_in_workers(
        [&](Shard s) {
          ExploreOptions mine = o;
          mine.shard = s;
          return explore(p.run_once(), 3, mine);
        },
        jobs, Shard{});
    EXPECT_EQ(json_of(r), whole) << jobs << " jobs";
  }
}

ExploreOptions dpor(size_t bound, bool stop_on_first = false) {
  return bounded(bound, true, stop_on_first, Reduction::kDpor);
}

std::set<std::string> kinds_of(const ExploreReport& r) {
  std::set<std::string> k;
  for (const auto& [kind, f] : r.failures) k.insert(kind);
  return k;
}

TEST(Dpor, IndependentThreadsAreOneRun) {
  FakeProgram p;
  for (size_t i = 0; i < 3; ++i)
    p.threads.push_back(FakeThread{"t" + std::to_string(i), {{store(i, 1)}, {store(i, 2)}}});
  ExploreReport r = explore(p.run_once(), 3, dpor(2));
  // No two segments race: one Mazurkiewicz trace, one run.
  EXPECT_EQ(r.runs(), 1u);
  EXPECT_EQ(r.classes.size(), 1u);
  EXPECT_EQ(coverage_of(r), "exhaustive");
}

TEST(Dpor, EveryOrderOfConflictingOpsIsItsOwnClass) {
  FakeProgram p = conflicting_ops(2);
  ExploreReport r = explore(p.run_once(), 2, dpor(0));
  ExploreReport ref = explore(p.run_once(), 2, bounded(0, false));
  EXPECT_EQ(r.runs(), 6u);
  EXPECT_EQ(r.classes.size(), 6u);
  EXPECT_EQ(ref.classes.size(), 6u);
  EXPECT_EQ(r.outcomes, ref.outcomes);
}

TEST(Dpor, FindsTheLostUpdateWithFewerRunsAndTheSameOutcomes) {
  FakeProgram p = lost_update(2);
  for (size_t bound : {0u, 1u, 2u}) {
    ExploreReport d = explore(p.run_once(), 4, dpor(bound));
    ExploreReport ref = explore(p.run_once(), 4, bounded(bound, false));
    ExploreReport sleep = explore(p.run_once(), 4, bounded(bound, true));
    EXPECT_EQ(d.outcomes.size(), ref.outcomes.size()) << "bound " << bound;
    EXPECT_EQ(kinds_of(d), kinds_of(ref)) << "bound " << bound;
    EXPECT_LT(d.runs(), sleep.runs()) << "bound " << bound;
    if (bound > 0) {
      EXPECT_EQ(d.failures.at("read-mismatch").level, 1u);
    }
  }
}

TEST(Dpor, StopOnFirstFinishesTheFailingBound) {
  FakeProgram p = lost_update(1, 2);
  ExploreReport r = explore(p.run_once(), 3, dpor(2, true));
  ASSERT_TRUE(r.stopped_at.has_value());
  EXPECT_EQ(*r.stopped_at, 1u);
  EXPECT_EQ(r.levels.count(2), 0u);
  EXPECT_EQ(kinds_of(r), std::set<std::string>{"read-mismatch"});
}

TEST(Dpor, ShardsTogetherFindWhatOneProcessFinds) {
  FakeProgram p = lost_update(1, 2);
  ExploreOptions o = dpor(2);
  ExploreReport whole = explore(p.run_once(), 3, o);
  for (size_t n : {2u, 3u}) {
    std::vector<ExploreReport> parts;
    for (size_t i = 0; i < n; ++i) {
      o.shard = Shard{i, n};
      parts.push_back(explore(p.run_once(), 3, o));
    }
    ExploreReport merged = merge_reports(parts);
    // A shard reverses the races its own runs show: two shards may run one
    // branch both, so only the counts of runs may differ.
    EXPECT_EQ(merged.outcomes, whole.outcomes) << n << " shards";
    EXPECT_EQ(kinds_of(merged), kinds_of(whole)) << n << " shards";
    EXPECT_GE(merged.runs(), whole.runs()) << n << " shards";
    EXPECT_EQ(merged.classes.size(), whole.classes.size()) << n << " shards";
  }
}

TEST(BoundedSearch, MaxRunsCutsTheSearchAndSaysSo) {
  FakeProgram p = lost_update(2);
  ExploreOptions o = bounded(2);
  o.max_runs = 5;
  ExploreReport r = explore(p.run_once(), 4, o);
  EXPECT_EQ(r.runs(), 5u);
  EXPECT_EQ(r.cut, "max-runs");
  EXPECT_EQ(coverage_of(r), "cut by max-runs");
}

TEST(BoundedSearch, ReportSurvivesItsJson) {
  FakeProgram p = lost_update(1);
  ExploreReport r = explore(p.run_once(), 3, bounded(2));
  std::string error;
  // As shard reports carry it: with the classes listed.
  std::optional<ExploreReport> back = report_from_json(report_to_json(r, {}, true), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(report_to_json(*back, {}, true).dump(), report_to_json(r, {}, true).dump());
}

TEST(PctSearch, FindsTheLostUpdateAndIsDeterministic) {
  FakeProgram p = lost_update();
  ExploreOptions o;
  o.strategy = Strategy::kPct;
  o.seeds = 200;
  o.depth = 2;
  o.stop_on_first = false;
  ExploreReport r = explore(p.run_once(), 2, o);
  EXPECT_EQ(r.runs(), 200u);
  EXPECT_EQ(r.failures.count("read-mismatch"), 1u);
  EXPECT_EQ(report_to_json(explore(p.run_once(), 2, o)).dump(), report_to_json(r).dump());
  std::vector<ExploreReport> parts;
  for (size_t i = 0; i < 2; ++i) {
    o.shard = Shard{i, 2};
    parts.push_back(explore(p.run_once(), 2, o));
  }
  EXPECT_EQ(json_of(merge_reports(parts)), json_of(r));
}

}  // namespace
}  // namespace vmsim::explore
