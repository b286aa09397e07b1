#include "explore/report_json.hpp"

#include <cstdio>

#include "explore/schedule_json.hpp"

namespace vmsim::explore {

namespace {

using Json = nlohmann::ordered_json;

const char* strategy_name(Strategy s) {
  return s == Strategy::kPct ? "pct" : "bounded";
}

uint64_t violating_outcomes(const ExploreReport& r) {
  uint64_t n = 0;
  for (const auto& [o, level] : r.outcomes) n += o.result == "violation";
  return n;
}

}  // namespace

std::string coverage_of(const ExploreReport& r) {
  if (r.error_code != 0) return "error";
  if (!r.cut.empty()) return "cut by " + r.cut;
  if (r.stopped_at)
    return "stopped after the first failing " +
           std::string(r.strategy == Strategy::kPct ? "seed" : "bound");
  if (r.strategy == Strategy::kPct) return "all seeds";
  if (r.beyond_bound) return "exhaustive to bound " + std::to_string(r.bound);
  return "exhaustive";
}

Json report_to_json(const ExploreReport& r, const std::vector<std::string>& written,
                    bool with_classes) {
  Json j;
  j["format"] = "vmsim-explore/1";
  j["strategy"] = strategy_name(r.strategy);
  j[r.strategy == Strategy::kPct ? "depth" : "bound"] = r.bound;
  if (r.strategy == Strategy::kBounded) {
    j["por"] = r.reduction != Reduction::kNone;
    j["reduction"] = reduction_name(r.reduction);
  }
  j["shard"] = {r.shard.index, r.shard.count};
  j["coverage"] = coverage_of(r);
  j["cut"] = r.cut;
  j["beyond_bound"] = r.beyond_bound;
  j["stopped_at"] = r.stopped_at ? Json(*r.stopped_at) : Json(nullptr);
  j["runs"] = r.runs();
  j["violating_runs"] = r.violating_runs();
  j["distinct_outcomes"] = r.outcomes.size();
  if (r.strategy == Strategy::kBounded) j["equivalence_classes"] = r.classes.size();
  Json levels = Json::array();
  for (const auto& [level, s] : r.levels)
    levels.push_back({{"level", level}, {"runs", s.runs}, {"violating_runs", s.violating_runs}});
  j["levels"] = levels;
  Json outcomes = Json::array();
  for (const auto& [o, level] : r.outcomes)
    outcomes.push_back(
        {{"result", o.result}, {"kinds", o.kinds}, {"digest", o.digest}, {"level", level}});
  j["outcomes"] = outcomes;
  Json failures = Json::array();
  size_t i = 0;
  for (const auto& [kind, f] : r.failures) {
    Json e{{"kind", kind},
           {"level", f.level},
           {"digest", f.digest},
           {"schedule", schedule_to_json(f.schedule)}};
    if (i < written.size()) e["file"] = written[i];
    ++i;
    failures.push_back(e);
  }
  j["failures"] = failures;
  if (with_classes && r.strategy == Strategy::kBounded) {
    // Shard reports carry the classes themselves, so that a merge counts
    // a class two shards both ran once.
    Json classes = Json::array();
    for (const auto& [hash, level] : r.classes) classes.push_back({hash, level});
    j["classes"] = classes;
  }
  if (r.error_code != 0) j["error"] = {{"code", r.error_code}, {"message", r.error}};
  return j;
}

std::optional<ExploreReport> report_from_json(const Json& j, std::string* error) {
  try {
    if (j.at("format") != "vmsim-explore/1") {
      *error = "not a vmsim-explore/1 report";
      return std::nullopt;
    }
    ExploreReport r;
    r.strategy = j.at("strategy") == "pct" ? Strategy::kPct : Strategy::kBounded;
    r.bound = j.at(r.strategy == Strategy::kPct ? "depth" : "bound").get<size_t>();
    if (r.strategy == Strategy::kBounded) {
      std::optional<Reduction> red = reduction_from_name(j.at("reduction").get<std::string>());
      if (!red) {
        *error = "unknown reduction " + j.at("reduction").dump();
        return std::nullopt;
      }
      r.reduction = *red;
    }
    if (j.contains("classes"))
      for (const auto& c : j.at("classes"))
        r.classes[c.at(0).get<uint64_t>()] = c.at(1).get<size_t>();
    r.shard = Shard{j.at("shard").at(0).get<size_t>(), j.at("shard").at(1).get<size_t>()};
    r.cut = j.at("cut").get<std::string>();
    r.beyond_bound = j.at("beyond_bound").get<bool>();
    if (!j.at("stopped_at").is_null()) r.stopped_at = j.at("stopped_at").get<size_t>();
    for (const auto& l : j.at("levels"))
      r.levels[l.at("level").get<size_t>()] =
          LevelStats{l.at("runs").get<uint64_t>(), l.at("violating_runs").get<uint64_t>()};
    for (const auto& o : j.at("outcomes"))
      r.outcomes[Outcome{o.at("result"), o.at("kinds"), o.at("digest")}] =
          o.at("level").get<size_t>();
    for (const auto& f : j.at("failures")) {
      auto steps = schedule_from_json(f.at("schedule"));
      if (!steps) {
        *error = "a failure's schedule is not a list of steps";
        return std::nullopt;
      }
      r.failures[f.at("kind")] =
          Failure{f.at("kind"), f.at("level").get<size_t>(), f.at("digest"), *steps};
    }
    if (j.contains("error")) {
      r.error_code = j["error"].at("code").get<int>();
      r.error = j["error"].at("message").get<std::string>();
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    *error = std::string("not a vmsim-explore/1 report: ") + e.what();
    return std::nullopt;
  }
}

std::string report_text(const ExploreReport& r, const std::vector<std::string>& written) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  std::string how = r.strategy == Strategy::kPct
                        ? "pct, depth " + std::to_string(r.bound)
                        : "bounded, preemption bound " + std::to_string(r.bound) +
                              (r.reduction == Reduction::kDpor        ? ", source-DPOR"
                               : r.reduction == Reduction::kSleepSets ? ", sleep sets"
                                                                      : ", no reduction");
  line(std::string(r.failures.empty() ? "no violation found" : "VIOLATION found") + "  (" + how +
       ")");
  line("  interleavings explored: " + std::to_string(r.runs()));
  line("  distinct outcomes:      " + std::to_string(r.outcomes.size()) + " (" +
       std::to_string(violating_outcomes(r)) + " violating)");
  line("  violating runs:         " + std::to_string(r.violating_runs()));
  if (r.strategy == Strategy::kBounded)
    line("  equivalence classes:    " + std::to_string(r.classes.size()) +
         " (Mazurkiewicz traces)");
  line("  coverage:               " + coverage_of(r));
  for (const auto& [level, s] : r.levels) {
    if (r.strategy == Strategy::kPct) break;
    line("    " + std::to_string(level) + " preemptions: " + std::to_string(s.runs) + " runs, " +
         std::to_string(s.violating_runs) + " violating");
  }
  size_t i = 0;
  for (const auto& [kind, f] : r.failures) {
    std::string where = r.strategy == Strategy::kPct ? "seed " + std::to_string(f.level)
                                                     : std::to_string(f.level) + " preemptions";
    line("  " + kind + " (" + where + ", " + std::to_string(f.schedule.size()) + " steps)" +
         (i < written.size() ? ": " + written[i] : ""));
    ++i;
  }
  if (r.error_code != 0) line("  error: " + r.error);
  return out;
}

}  // namespace vmsim::explore
