// The minimizer against a fake replay whose failure condition is known.
#include "explore/minimizer.hpp"

#include <gtest/gtest.h>

#include <set>

namespace vmsim::explore {
namespace {

using Json = nlohmann::ordered_json;

Json op(const std::string& kind, int value) {
  return Json{{"op", kind}, {"value", value}};
}

// Two threads: `a` writes 1..5, `b` reads; a schedule that interleaves them.
Json noisy_trace() {
  Json t = Json::parse(R"({"format": "vmsim-trace/1", "name": "noisy",
      "threads": [{"name": "a", "process": "p", "ops": []},
                  {"name": "b", "process": "p", "ops": []},
                  {"name": "c", "process": "p", "ops": []}],
      "expect": {"result": "pass"}})");
  t["threads"][0]["ops"].push_back(
      Json{{"op", "mmap"}, {"len", 4096}, {"prot", "rw"}, {"share", "private"}, {"as", "m"}});
  for (int v = 1; v <= 5; ++v) t["threads"][0]["ops"].push_back(op("write", v));
  t["threads"][0]["ops"].push_back(Json{{"op", "write"}, {"addr", "@m+0x8"}, {"value", 9}});
  for (int v = 1; v <= 3; ++v) t["threads"][1]["ops"].push_back(op("read", v));
  t["threads"][2]["ops"].push_back(op("read", 0));
  t["schedule"] = Json::parse(R"([{"thread": "a", "until": "fault.begin"},
      {"thread": "b", "ops": 1}, {"thread": "a", "ops": 3}, {"thread": "c", "ops": 1},
      {"thread": "b", "ops": 2}, {"thread": "a", "ops": 4}])");
  return t;
}

bool has_op(const Json& trace, const std::string& thread, const Json& wanted) {
  for (const Json& t : trace["threads"])
    if (t["name"] == thread)
      for (const Json& o : t["ops"])
        if (o == wanted) return true;
  return false;
}

// "Fails" while a writes 3, uses label m, and b reads 2; a trace whose
// schedule names a thread it does not have, or that uses an unbound label,
// cannot run.
std::optional<std::vector<std::string>> fake_replay(const Json& trace) {
  std::set<std::string> names;
  for (const Json& t : trace["threads"]) names.insert(t["name"]);
  for (const Json& s : trace["schedule"])
    if (!names.count(s["thread"])) return std::nullopt;
  const Json labelled{{"op", "write"}, {"addr", "@m+0x8"}, {"value", 9}};
  const Json binder =
      Json{{"op", "mmap"}, {"len", 4096}, {"prot", "rw"}, {"share", "private"}, {"as", "m"}};
  if (has_op(trace, "a", labelled) && !has_op(trace, "a", binder)) return std::nullopt;
  if (has_op(trace, "a", op("write", 3)) && has_op(trace, "a", labelled) &&
      has_op(trace, "b", op("read", 2)))
    return std::vector<std::string>{"read-mismatch"};
  return std::vector<std::string>{};
}

TEST(Minimizer, KeepsOnlyWhatTheFailureNeeds) {
  MinimizeStats stats;
  Json out = minimize_trace(noisy_trace(), "read-mismatch", fake_replay, &stats);
  EXPECT_EQ(fake_replay(out).value(), std::vector<std::string>{"read-mismatch"});
  EXPECT_EQ(stats.ops_before, 11u);
  // a: mmap (binds m), write 3, write @m; b: read 2. Thread c goes.
  EXPECT_EQ(stats.ops_after, 4u);
  EXPECT_EQ(stats.threads_after, 2u);
  EXPECT_EQ(stats.steps_before, 6u);
  EXPECT_LT(stats.steps_after, 6u);
  EXPECT_EQ(out["expect"], (Json{{"result", "violation"}, {"violation", "read-mismatch"}}));
  EXPECT_GT(stats.runs, 0u);
}

TEST(Minimizer, IsDeterministic) {
  Json a = minimize_trace(noisy_trace(), "read-mismatch", fake_replay, nullptr);
  Json b = minimize_trace(noisy_trace(), "read-mismatch", fake_replay, nullptr);
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(Minimizer, RewritesStepCountsWhenOpsGo) {
  Json out = minimize_trace(noisy_trace(), "read-mismatch", fake_replay, nullptr);
  size_t a_ops = 0;
  for (const Json& s : out["schedule"])
    if (s["thread"] == "a" && s.contains("ops")) a_ops += s["ops"].get<size_t>();
  EXPECT_LE(a_ops, 3u);  // never more ops than the thread has
}

}  // namespace
}  // namespace vmsim::explore
