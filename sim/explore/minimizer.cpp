#include "explore/minimizer.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "explore/ddmin.hpp"

namespace vmsim::explore {

using Json = nlohmann::ordered_json;

size_t count_ops(const Json& trace) {
  size_t n = 0;
  for (const Json& t : trace.at("threads")) n += t.at("ops").size();
  return n;
}

namespace {

// Whether some string in `j` refers to `label` ("@label" or "@label+off").
bool uses_label(const Json& j, const std::string& label) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    const std::string ref = "@" + label;
    return s == ref || s.rfind(ref + "+", 0) == 0;
  }
  if (j.is_structured())
    for (const Json& v : j)
      if (uses_label(v, label)) return true;
  return false;
}

// Whether removing `removed` ops leaves a remaining op (of any thread) using
// a label one of them binds.
bool strands_a_label(const Json& trace, const std::vector<const Json*>& removed) {
  for (const Json* op : removed) {
    if (!op->contains("as")) continue;
    const std::string label = (*op)["as"].get<std::string>();
    for (const Json& t : trace.at("threads"))
      for (const Json& o : t.at("ops"))
        if (uses_label(o, label)) return true;
  }
  return false;
}

// The schedule after thread `thread` keeps only ops `kept` (ascending):
// every step's op count counts its surviving ops; an `until` step stopped
// inside a removed op goes. A `{thread}` step is left as it is.
Json schedule_keeping(const Json& schedule, const std::string& thread,
                      const std::vector<size_t>& kept) {
  std::set<size_t> keep(kept.begin(), kept.end());
  Json out = Json::array();
  size_t cursor = 0;  // the thread's next op (an until step stops inside it)
  for (const Json& step : schedule) {
    if (step.at("thread") != thread) {
      out.push_back(step);
      continue;
    }
    if (step.contains("until")) {
      if (keep.count(cursor)) out.push_back(step);
      continue;
    }
    if (!step.contains("ops")) {
      out.push_back(step);
      continue;
    }
    const size_t n = step["ops"].get<size_t>();
    size_t survivors = 0;
    for (size_t i = 0; i < n; ++i) survivors += keep.count(cursor + i);
    cursor += n;
    if (survivors == 0) continue;
    Json s = step;
    s["ops"] = survivors;
    out.push_back(s);
  }
  return out;
}

class Minimizer {
 public:
  Minimizer(const std::string& kind, const Replay& replay, MinimizeStats* stats)
      : kind_(kind), replay_(replay), stats_(stats) {}

  Json run(Json trace) {
    trace_ = std::move(trace);
    for (int round = 0; round < 4; ++round) {
      const std::string before = trace_.dump();
      shrink_schedule();
      for (size_t t = 0; t < trace_["threads"].size(); ++t) shrink_ops(t);
      shrink_threads();
      if (trace_.dump() == before) break;
    }
    return trace_;
  }

 private:
  bool fails(const Json& candidate) {
    ++stats_->runs;
    std::optional<std::vector<std::string>> kinds = replay_(candidate);
    return kinds && std::find(kinds->begin(), kinds->end(), kind_) != kinds->end();
  }
  // Takes `candidate` if it still fails.
  bool try_accept(Json candidate) {
    if (candidate.dump() == trace_.dump() || !fails(candidate)) return false;
    trace_ = std::move(candidate);
    return true;
  }

  void shrink_schedule() {
    // Whole ops instead of stops inside them: fewer preemptions.
    for (size_t i = 0; i < trace_["schedule"].size(); ++i) {
      if (!trace_["schedule"][i].contains("until")) continue;
      Json c = trace_;
      c["schedule"][i] = Json{{"thread", trace_["schedule"][i]["thread"]}, {"ops", 1}};
      try_accept(std::move(c));
    }
    const Json steps = trace_["schedule"];
    std::vector<size_t> kept = ddmin(steps.size(), [&](const std::vector<size_t>& k) {
      Json c = trace_;
      c["schedule"] = Json::array();
      for (size_t i : k) c["schedule"].push_back(steps[i]);
      return fails(c);
    });
    Json c = trace_;
    c["schedule"] = Json::array();
    for (size_t i : kept) c["schedule"].push_back(steps[i]);
    trace_ = std::move(c);  // ddmin's result failed when it was tried
    merge_neighbour_steps();
  }

  void merge_neighbour_steps() {
    for (size_t i = 0; i + 1 < trace_["schedule"].size();) {
      const Json& a = trace_["schedule"][i];
      const Json& b = trace_["schedule"][i + 1];
      if (a["thread"] == b["thread"] && a.contains("ops") && b.contains("ops")) {
        Json c = trace_;
        c["schedule"][i]["ops"] = a["ops"].get<size_t>() + b["ops"].get<size_t>();
        c["schedule"].erase(i + 1);
        if (try_accept(std::move(c))) continue;
      }
      ++i;
    }
  }

  void shrink_ops(size_t thread) {
    const Json ops = trace_["threads"][thread]["ops"];
    const std::string name = trace_["threads"][thread]["name"];
    auto candidate = [&](const std::vector<size_t>& k) -> std::optional<Json> {
      std::vector<const Json*> removed;
      for (size_t i = 0; i < ops.size(); ++i)
        if (!std::binary_search(k.begin(), k.end(), i)) removed.push_back(&ops[i]);
      Json c = trace_;
      c["threads"][thread]["ops"] = Json::array();
      for (size_t i : k) c["threads"][thread]["ops"].push_back(ops[i]);
      if (strands_a_label(c, removed)) return std::nullopt;
      c["schedule"] = schedule_keeping(trace_["schedule"], name, k);
      return c;
    };
    std::vector<size_t> kept = ddmin(ops.size(), [&](const std::vector<size_t>& k) {
      if (k.empty()) return false;  // whole threads go in shrink_threads
      std::optional<Json> c = candidate(k);
      return c && fails(*c);
    });
    if (kept.size() < ops.size()) trace_ = *candidate(kept);
  }

  void shrink_threads() {
    const Json threads = trace_["threads"];
    auto candidate = [&](const std::vector<size_t>& k) -> std::optional<Json> {
      Json c = trace_;
      c["threads"] = Json::array();
      std::set<std::string> gone;
      std::vector<const Json*> removed;
      for (size_t i = 0; i < threads.size(); ++i) {
        if (std::binary_search(k.begin(), k.end(), i)) {
          c["threads"].push_back(threads[i]);
        } else {
          gone.insert(threads[i]["name"].get<std::string>());
          for (const Json& op : threads[i]["ops"]) removed.push_back(&op);
        }
      }
      if (strands_a_label(c, removed)) return std::nullopt;
      c["schedule"] = Json::array();
      for (const Json& s : trace_["schedule"])
        if (!gone.count(s["thread"].get<std::string>())) c["schedule"].push_back(s);
      return c;
    };
    std::vector<size_t> kept = ddmin(threads.size(), [&](const std::vector<size_t>& k) {
      if (k.empty()) return false;
      std::optional<Json> c = candidate(k);
      return c && fails(*c);
    });
    if (kept.size() < threads.size()) trace_ = *candidate(kept);
  }

  const std::string& kind_;
  const Replay& replay_;
  MinimizeStats* stats_;
  Json trace_;
};

}  // namespace

Json minimize_trace(Json trace, const std::string& kind, const Replay& replay,
                    MinimizeStats* stats) {
  MinimizeStats local;
  if (!stats) stats = &local;
  stats->ops_before = count_ops(trace);
  stats->steps_before = trace["schedule"].size();
  stats->threads_before = trace["threads"].size();
  trace.erase("expect");  // the candidates are judged by their violations only
  Json out = Minimizer(kind, replay, stats).run(std::move(trace));
  out["expect"] = {{"result", "violation"}, {"violation", kind}};
  stats->ops_after = count_ops(out);
  stats->steps_after = out["schedule"].size();
  stats->threads_after = out["threads"].size();
  return out;
}

}  // namespace vmsim::explore
