#include "explore/explore_types.hpp"

#include <algorithm>
#include <tuple>

#include "explore/schedule_json.hpp"

namespace vmsim::explore {

Outcome outcome_of(const RunSummary& r) {
  Outcome o;
  o.result = r.violation() ? "violation" : "pass";
  for (const std::string& k : r.kinds) o.kinds += (o.kinds.empty() ? "" : ",") + k;
  o.digest = r.digest;
  return o;
}

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::kNone:
      return "none";
    case Reduction::kSleepSets:
      return "sleep-sets";
    case Reduction::kDpor:
      return "dpor";
  }
  return "none";
}

std::optional<Reduction> reduction_from_name(const std::string& name) {
  for (Reduction r : {Reduction::kNone, Reduction::kSleepSets, Reduction::kDpor})
    if (name == reduction_name(r)) return r;
  return std::nullopt;
}

uint64_t ExploreReport::runs() const {
  uint64_t n = 0;
  for (const auto& [level, stats] : levels) n += stats.runs;
  return n;
}

uint64_t ExploreReport::violating_runs() const {
  uint64_t n = 0;
  for (const auto& [level, stats] : levels) n += stats.violating_runs;
  return n;
}

bool failure_before(const Failure& a, const Failure& b) {
  auto key = [](const Failure& f) {
    return std::make_tuple(f.level, f.schedule.size(), schedule_to_json(f.schedule).dump());
  };
  return key(a) < key(b);
}

namespace {

void keep_first_failure(std::map<std::string, Failure>& failures, const Failure& f) {
  auto it = failures.find(f.kind);
  if (it == failures.end()) {
    failures.emplace(f.kind, f);
  } else if (failure_before(f, it->second)) {
    it->second = f;
  }
}

void keep_first_level(std::map<Outcome, size_t>& outcomes, const Outcome& o, size_t level) {
  auto [it, inserted] = outcomes.emplace(o, level);
  if (!inserted) it->second = std::min(it->second, level);
}

}  // namespace

void record_run(ExploreReport& report, size_t level, const RunSummary& run) {
  LevelStats& stats = report.levels[level];
  ++stats.runs;
  keep_first_level(report.outcomes, outcome_of(run), level);
  if (!run.violation()) return;
  ++stats.violating_runs;
  keep_first_failure(report.failures, Failure{run.kinds.front(), level, run.digest, run.schedule});
}

void record_class(ExploreReport& report, size_t level, uint64_t class_hash) {
  auto [it, inserted] = report.classes.emplace(class_hash, level);
  if (!inserted) it->second = std::min(it->second, level);
}

ExploreReport merge_reports(const std::vector<ExploreReport>& shards) {
  ExploreReport merged;
  if (shards.empty()) return merged;
  merged.strategy = shards.front().strategy;
  merged.bound = shards.front().bound;
  merged.reduction = shards.front().reduction;
  merged.shard = Shard{0, 1};
  // Every shard that stops on first failure finishes the level it failed
  // at; the earliest such level is where the whole search stops.
  for (const ExploreReport& s : shards) {
    if (s.stopped_at && (!merged.stopped_at || *s.stopped_at < *merged.stopped_at))
      merged.stopped_at = s.stopped_at;
  }
  auto wanted = [&](size_t level) { return !merged.stopped_at || level <= *merged.stopped_at; };
  for (const ExploreReport& s : shards) {
    for (const auto& [level, stats] : s.levels) {
      if (!wanted(level)) continue;
      merged.levels[level].runs += stats.runs;
      merged.levels[level].violating_runs += stats.violating_runs;
    }
    for (const auto& [outcome, level] : s.outcomes)
      if (wanted(level)) keep_first_level(merged.outcomes, outcome, level);
    for (const auto& [hash, level] : s.classes)
      if (wanted(level)) record_class(merged, level, hash);
    for (const auto& [kind, failure] : s.failures)
      if (wanted(failure.level)) keep_first_failure(merged.failures, failure);
    if (merged.cut.empty()) merged.cut = s.cut;
    merged.beyond_bound = merged.beyond_bound || s.beyond_bound;
    if (merged.error_code == 0 && s.error_code != 0) {
      merged.error_code = s.error_code;
      merged.error = s.error;
    }
  }
  if (merged.stopped_at) merged.beyond_bound = false;
  return merged;
}

}  // namespace vmsim::explore
