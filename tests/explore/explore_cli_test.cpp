// `vmsim explore` and `vmsim minimize` as a user runs them: the real binary
// on the resize-vs-fault race with its order-dependent assertions removed,
// so that the reference model alone judges every interleaving.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Result {
  int code = -1;
  std::string out;
};

// Runs `args` with the shell in `dir`, stdout captured, stderr dropped.
Result vmsim(const fs::path& dir, const std::string& args) {
  const std::string cmd = "cd '" + dir.string() + "' && '" VMSIM_BIN "' " + args + " 2>/dev/null";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

// Runs a shell command line in `dir`, stdout and stderr captured together.
Result shell(const fs::path& dir, const std::string& line) {
  const std::string cmd = "cd '" + dir.string() + "' && " + line + " 2>&1";
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

class ExploreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("explore_cli_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ifstream in(fs::path(VMSIM_TRACES_DIR) / "races" / "resize-vs-fault.json");
    Json t = Json::parse(in);
    for (Json& thread : t["threads"])
      for (Json& op : thread["ops"]) op.erase("expect_fault");
    t.erase("schedule");
    t.erase("expect");
    std::ofstream(dir_ / "free.json") << t.dump(2);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ExploreCli, JobsAndShardsGiveTheSameReportAsOneProcess) {
  Result whole = vmsim(dir_, "explore free.json --all --json");
  ASSERT_LE(whole.code, 1);
  Json w = Json::parse(whole.out);
  EXPECT_GT(w["runs"].get<int>(), 3);
  Result jobs = vmsim(dir_, "explore free.json --all --json --jobs 3");
  EXPECT_EQ(jobs.code, whole.code);
  Json j = Json::parse(jobs.out);
  for (const char* key : {"runs", "distinct_outcomes", "levels", "outcomes", "failures"})
    EXPECT_EQ(j[key], w[key]) << key;
  for (int i = 0; i < 2; ++i) {
    Result shard = vmsim(dir_, "explore free.json --all --shard " + std::to_string(i) + "/2");
    std::ofstream(dir_ / ("s" + std::to_string(i) + ".json")) << shard.out;
  }
  Result merged = vmsim(dir_, "explore --merge s0.json s1.json --json");
  EXPECT_EQ(merged.code, whole.code);
  Json m = Json::parse(merged.out);
  for (const char* key : {"runs", "distinct_outcomes", "levels", "outcomes", "failures"})
    EXPECT_EQ(m[key], w[key]) << key;
}

TEST_F(ExploreCli, BoundZeroRunsTheOrdersOfWholeOps) {
  Result r = vmsim(dir_, "explore free.json --bound 0 --json");
  ASSERT_LE(r.code, 1);
  Json j = Json::parse(r.out);
  // mmap, read, read | truncate: the truncate goes in one of four places.
  EXPECT_EQ(j["runs"], 4);
  EXPECT_EQ(j["coverage"], "exhaustive to bound 0");
}

TEST_F(ExploreCli, EveryFailureFileReplaysItsViolationAndMinimizes) {
  // The core as built passes every interleaving; without the size re-check
  // and the map revalidation after page-in (the fault drops the map lock for
  // the read, and truncate's unmap phase bumps the map generation: either
  // check alone closes the window), the explorer must find the race on its
  // own.
  Result clean = vmsim(dir_, "explore free.json --json");
  EXPECT_EQ(clean.code, 0);
  EXPECT_EQ(Json::parse(clean.out)["coverage"], "exhaustive to bound 2");
  const std::string bug = " --bug resize-no-revalidate --bug pagein-no-revalidate";
  Result r = vmsim(dir_, "explore free.json --json --out fails" + bug);
  ASSERT_EQ(r.code, 1);
  Json j = Json::parse(r.out);
  ASSERT_FALSE(j["failures"].empty());
  for (const Json& f : j["failures"]) {
    const std::string file = f["file"];
    for (int i = 0; i < 2; ++i) {
      Result again = vmsim(dir_, "replay --json " + file + bug);
      EXPECT_EQ(again.code, 1);
      EXPECT_EQ(Json::parse(again.out)["violations"][0]["kind"], f["kind"]);
    }
    Result min = vmsim(dir_, "minimize " + file + " -o min.json" + bug);
    ASSERT_EQ(min.code, 0);
    Result replayed = vmsim(dir_, "replay --json min.json" + bug);
    EXPECT_EQ(Json::parse(replayed.out)["violations"][0]["kind"], f["kind"]);
  }
}

// --sanity runs every interleaving under slab sanity: a write to a slab
// object without USE() (the switch drops mprotect's) is found in the first
// run, and only with the flag; the failure file replays it under replay
// --sanity, and minimize --sanity keeps it.
TEST_F(ExploreCli, SanityChecksEveryRun) {
  const std::string demo = (fs::path(VMSIM_TRACES_DIR) / "examples" / "demo.json").string();
  const std::string bug = " --bug slab-write-without-use";
  Result plain = vmsim(dir_, "explore " + demo + " --bound 0 --json --out fails" + bug);
  EXPECT_EQ(plain.code, 0) << plain.out;
  Result r = vmsim(dir_, "explore " + demo + " --bound 0 --json --sanity --out fails" + bug);
  ASSERT_EQ(r.code, 1) << r.out;
  const Json j = Json::parse(r.out);
  ASSERT_FALSE(j["failures"].empty());
  const Json& f = j["failures"][0];
  EXPECT_EQ(f["kind"], "invariant");
  const std::string file = f["file"];
  Result again = vmsim(dir_, "replay --json --sanity " + file + bug);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.out.find("without USE()"), std::string::npos) << again.out;
  Result min = vmsim(dir_, "minimize --sanity " + file + " -o min.json" + bug);
  ASSERT_EQ(min.code, 0);
  Result replayed = vmsim(dir_, "replay --json --sanity min.json" + bug);
  EXPECT_NE(replayed.out.find("without USE()"), std::string::npos) << replayed.out;
  EXPECT_EQ(vmsim(dir_, "minimize " + file + " -o plain.json" + bug).code, 2)
      << "without --sanity the candidate does not fail";
}

TEST_F(ExploreCli, BadInputIsExitTwo) {
  EXPECT_EQ(vmsim(dir_, "explore missing.json").code, 2);
  EXPECT_EQ(vmsim(dir_, "explore free.json --shard 2/2").code, 2);
  EXPECT_EQ(vmsim(dir_, "minimize missing.json").code, 2);
  // A negative count is refused, not read as 2^64 - 1.
  EXPECT_EQ(vmsim(dir_, "explore free.json --max-runs -1").code, 2);
  EXPECT_EQ(vmsim(dir_, "explore free.json --strategy pct --seeds -1").code, 2);
}

// Output paths are never built from unchecked text: a trace whose name would
// leave `--out DIR` is refused when loaded, and a merge refuses shard reports
// whose violation kinds or trace name could not name a file.
TEST_F(ExploreCli, FailureFilesStayInsideTheOutputDirectory) {
  std::ifstream in(dir_ / "free.json");
  Json t = Json::parse(in);
  t["name"] = "../../escape";
  std::ofstream(dir_ / "escape.json") << t.dump(2);
  fs::create_directories(dir_ / "a" / "b");
  const std::string bug = " --bug resize-no-revalidate --bug pagein-no-revalidate";
  EXPECT_EQ(vmsim(dir_, "explore escape.json --out a/b/fails" + bug).code, 2);
  // a/b/fails/../../escape.KIND.json, were the name not refused:
  auto only_b_in_a = [&] {
    return std::distance(fs::directory_iterator(dir_ / "a"), fs::directory_iterator()) == 1;
  };
  EXPECT_TRUE(only_b_in_a());
  EXPECT_FALSE(fs::exists(dir_ / "a" / "b" / "fails"));

  Result shard = vmsim(dir_, "explore free.json --shard 0/1" + bug);
  ASSERT_EQ(shard.code, 1) << shard.out;
  Json s = Json::parse(shard.out);
  ASSERT_TRUE(s["failures"].is_array() && !s["failures"].empty()) << shard.out;
  s["failures"][0]["kind"] = "../../escape";
  std::ofstream(dir_ / "bad-kind.json") << s.dump();
  EXPECT_EQ(vmsim(dir_, "explore --merge bad-kind.json --out a/b/fails").code, 2);

  // The trace file a shard report names is re-read for the failure files:
  // its name is checked again there.
  Json renamed = Json::parse(shard.out);
  renamed["trace"] = "escape.json";
  std::ofstream(dir_ / "renamed.json") << renamed.dump();
  EXPECT_EQ(vmsim(dir_, "explore --merge renamed.json --out a/b/fails").code, 2);
  EXPECT_TRUE(only_b_in_a());
}

}  // namespace

namespace {

// tools/explore-parallel.sh under GNU parallel (scripts/install-deps.sh
// installs it): the verdict and the outcomes of one process, for a clean
// search and for one that finds the race.
TEST_F(ExploreCli, ParallelScriptGivesTheVerdictOfOneProcess) {
  ASSERT_EQ(shell(dir_, "command -v parallel").code, 0) << "GNU parallel is not installed";
  const std::string script =
      "'" VMSIM_SOURCE_DIR "/tools/explore-parallel.sh' --vmsim '" VMSIM_BIN "' --shards 5 -j 2 ";
  // resize-vs-fault needs both protections off since the fault drops the
  // map lock for page-in (docs/races.md).
  for (const std::string bug : {"", "resize-no-revalidate,pagein-no-revalidate"}) {
    const std::string env = bug.empty() ? "" : "VMSIM_BUGS=" + bug + " ";
    const std::string flags =
        bug.empty() ? "" : "--bug resize-no-revalidate --bug pagein-no-revalidate ";
    Result one = vmsim(dir_, flags + "explore free.json --bound 2 --json --out one");
    Result par = shell(dir_, env + script + "free.json --bound 2 --json --out par");
    ASSERT_LE(one.code, 1) << one.out;
    EXPECT_EQ(par.code, one.code) << par.out;
    EXPECT_EQ(par.code, bug.empty() ? 0 : 1);
    Json o = Json::parse(one.out);
    Json p = Json::parse(par.out.substr(par.out.find('{')));
    EXPECT_EQ(p["distinct_outcomes"], o["distinct_outcomes"]) << bug;
    EXPECT_EQ(p["outcomes"], o["outcomes"]) << bug;
    EXPECT_EQ(p["coverage"], o["coverage"]) << bug;
    EXPECT_EQ(p["failures"].size(), o["failures"].size()) << bug;
  }
}

// --merge joins only shards of one search: same vmsim, trace bytes, bugs,
// bound and reduction, every shard once.
TEST_F(ExploreCli, MergeRefusesShardReportsOfDifferentSearches) {
  auto shard = [&](const std::string& flags, int i, const std::string& out) {
    Result r = vmsim(dir_, flags + " --shard " + std::to_string(i) + "/2 > " + out);
    ASSERT_LE(r.code, 1);
  };
  shard("explore free.json --bound 1", 0, "a0.json");
  shard("explore free.json --bound 1", 1, "a1.json");
  EXPECT_EQ(vmsim(dir_, "explore --merge a0.json a1.json").code, 0);

  shard("explore free.json --bound 2", 1, "bound.json");
  Result r = shell(dir_, "'" VMSIM_BIN "' explore --merge a0.json bound.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("search.bound is 2"), std::string::npos) << r.out;

  shell(dir_, "sed 's/\"size\": \"8KiB\"/\"size\": \"12KiB\"/' free.json > other.json");
  shard("explore other.json --bound 1", 1, "trace.json");
  r = shell(dir_, "'" VMSIM_BIN "' explore --merge a0.json trace.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("search.trace_sha256"), std::string::npos) << r.out;

  shard("--bug resize-no-revalidate explore free.json --bound 1 --all", 1, "bug.json");
  r = shell(dir_, "'" VMSIM_BIN "' explore --merge a0.json bug.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("search.mutations"), std::string::npos) << r.out;

  shell(dir_, "sed 's/\"vmsim\":\"vmsim [^\"]*\"/\"vmsim\":\"vmsim 9.9\"/' a1.json > v.json");
  r = shell(dir_, "'" VMSIM_BIN "' explore --merge a0.json v.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("search.vmsim"), std::string::npos) << r.out;

  r = shell(dir_, "'" VMSIM_BIN "' explore --merge a0.json a0.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("shard 0 again"), std::string::npos) << r.out;
  r = shell(dir_, "'" VMSIM_BIN "' explore --merge a1.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("shard 0/2 is missing"), std::string::npos) << r.out;
}

}  // namespace
