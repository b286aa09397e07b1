// `vmsim lackey` as a user runs it (spec §11, docs/lackey.md): a real
// valgrind log (traces/lackey/true.log.gz, /bin/true under lackey) and small
// logs written here; exit codes, messages, the result object, and pressure
// that changes nothing the program sees.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "scratch_dir.hpp"
#include "spawn_captured.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::string kVmsim = VMSIM_BIN;
const fs::path kTrueLog = fs::path(VMSIM_TRACES_DIR) / "lackey" / "true.log.gz";

using Result = vmsim::test_support::Captured;

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

class LackeyCli : public ::testing::Test {
 protected:
  Result run(const std::string& bin, const std::vector<std::string>& args) {
    Result r = vmsim::test_support::spawn_captured(bin, args, scratch_, environ);
    if (!r.failure.empty()) ADD_FAILURE() << r.failure;
    return r;
  }
  Result vmsim(std::vector<std::string> args) {
    args.insert(args.begin(), "lackey");
    return run(kVmsim, args);
  }
  // The result object of a run that should exit with `code`.
  Json json(std::vector<std::string> args, int code = 0) {
    args.push_back("--json");
    const Result r = vmsim(args);
    EXPECT_EQ(r.code, code) << r.err << r.out;
    try {
      return Json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << r.out;
      return Json::object();
    }
  }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = scratch_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  vmsim::test_support::ScratchDir scratch_dir_{"vmsim-lackey-cli"};
  const fs::path& scratch_ = scratch_dir_.path();
};

TEST_F(LackeyCli, RealLogPassesWithTheReplacementObject) {
  const Json j = json({kTrueLog.string()});
  EXPECT_EQ(j["result"], "pass");
  EXPECT_EQ(j["lines"], 171369);
  EXPECT_EQ(j["accesses"], 40291);
  const Json& r = j["replacement"];
  std::vector<std::string> keys;
  for (auto it = r.begin(); it != r.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"distinct_pages", "capacity", "core_misses",
                                            "lru_misses", "opt_misses"}));
  EXPECT_EQ(r["capacity"], j["stats"]["resident_user_peak"]) << "without --resident-limit";
  EXPECT_EQ(r["core_misses"], r["distinct_pages"]) << "nothing was paged out: first touches only";
  EXPECT_GE(r["lru_misses"].get<uint64_t>(), r["opt_misses"].get<uint64_t>());
  EXPECT_GE(r["opt_misses"].get<uint64_t>(), r["distinct_pages"].get<uint64_t>());
  EXPECT_EQ(j["stats"]["page_ins"], 0);
  EXPECT_EQ(j["digest"].get<std::string>().size(), 64u);
}

// Spec §8: pressure is invisible. A resident limit, a small memory and a
// compressor each give the unlimited run's digest.
TEST_F(LackeyCli, PressureChangesNothingTheProgramSees) {
  const Json free_run = json({kTrueLog.string()});
  const Json limited = json({kTrueLog.string(), "--resident-limit", "12"});
  EXPECT_EQ(limited["digest"], free_run["digest"]);
  EXPECT_EQ(limited["replacement"]["capacity"], 12);
  EXPECT_GT(limited["stats"]["page_ins"].get<uint64_t>(), 0u);
  EXPECT_GT(limited["stats"]["swap_outs"].get<uint64_t>(), 0u);
  EXPECT_LE(limited["stats"]["resident_user_peak"].get<uint64_t>(), 12u) << "the limit holds";
  EXPECT_EQ(limited["replacement"]["core_misses"].get<uint64_t>(),
            limited["replacement"]["distinct_pages"].get<uint64_t>() +
                limited["stats"]["page_ins"].get<uint64_t>());

  const Json compressed =
      json({kTrueLog.string(), "--resident-limit", "12", "--compressor", "64KiB", "--swap", "0"});
  EXPECT_EQ(compressed["digest"], free_run["digest"]);
  EXPECT_GT(compressed["stats"]["compressed_stores"].get<uint64_t>(), 0u);

  const Json small = json({kTrueLog.string(), "--memory", "1MiB"});
  EXPECT_EQ(small["digest"], free_run["digest"]);
}

TEST_F(LackeyCli, SameBytesEveryRunAndFromEveryInput) {
  const Result a = vmsim({kTrueLog.string(), "--resident-limit", "16"});
  const Result b = vmsim({kTrueLog.string(), "--resident-limit", "16"});
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.out, b.out);
  // The same log, uncompressed and from standard input.
  const std::string plain = (scratch_ / "true.log").string();
  ASSERT_EQ(run("/bin/sh", {"-c", "gzip -dc '" + kTrueLog.string() + "' > '" + plain + "'"}).code,
            0);
  Json j1 = json({kTrueLog.string()}), j2 = json({plain});
  const Result piped = run("/bin/sh", {"-c", "'" + kVmsim + "' lackey --json - < '" + plain + "'"});
  ASSERT_EQ(piped.code, 0) << piped.err;
  Json j3 = Json::parse(piped.out);
  EXPECT_EQ(j3["log"], "<stdin>");
  for (Json* j : {&j1, &j2, &j3}) j->erase("log");
  EXPECT_EQ(j1, j2);
  EXPECT_EQ(j1, j3);
}

// A loop over 5 pages with 4 resident: exact LRU misses on every reference.
TEST_F(LackeyCli, LoopAgainstLruAndOpt) {
  std::string log = "==1== a loop\n";
  for (int round = 0; round < 20; ++round)
    for (int page = 0; page < 5; ++page)
      log += " S " + std::to_string(1000 + page * 10) + "000,8\n";  // hex: 0x1000000 + page*0x10000
  const Json j = json({write("loop.log", log), "--resident-limit", "4"});
  const Json& r = j["replacement"];
  EXPECT_EQ(r["distinct_pages"], 5);
  EXPECT_EQ(r["lru_misses"], 100);
  EXPECT_LT(r["opt_misses"].get<uint64_t>(), 40u);
  EXPECT_GE(r["core_misses"].get<uint64_t>(), r["opt_misses"].get<uint64_t>());
  EXPECT_EQ(j["accesses"], 100);
}

TEST_F(LackeyCli, AccessesAcrossPagesReferenceBoth) {
  const Json j = json({write("cross.log", " S 10ffc,8\n L 20000,4\n M 20ffe,4\n")});
  EXPECT_EQ(j["references"], 5);
  EXPECT_EQ(j["replacement"]["distinct_pages"], 4);
}

TEST_F(LackeyCli, MalformedLineIsExitTwoWithItsLine) {
  const std::string path = write("bad.log", "==1== hi\nI  0401ab70,3\n S 10000,8\n L 10000;8\n");
  const Result r = vmsim({path});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, path + ":4: expected a hex address and a comma")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(LackeyCli, TruncatedGzipIsExitTwoWithItsLine) {
  std::ifstream in(kTrueLog, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string cut = write("cut.log.gz", bytes.substr(0, bytes.size() - 1000));
  const Result r = vmsim({cut});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, cut + ":")) << r.err;
  EXPECT_TRUE(contains(r.err, ": the gzip stream is truncated")) << r.err;
}

TEST_F(LackeyCli, AddressesOutsideTheUserHalfAreExitTwo) {
  for (const std::string line : {" L 8000,8", " S 7ffffffff000,1", " L ffffffffff600000,8"}) {
    const Result r = vmsim({write("out.log", " L 10000,8\n" + line + "\n")});
    EXPECT_EQ(r.code, 2) << line;
    EXPECT_TRUE(contains(r.err, "out.log:2: the access")) << r.err;
    EXPECT_TRUE(contains(r.err, "is outside the user address space")) << r.err;
  }
}

TEST_F(LackeyCli, BadOptionsAndFilesAreExitTwo) {
  EXPECT_EQ(vmsim({(scratch_ / "missing.log").string()}).code, 2);
  const std::string log = write("ok.log", " L 10000,8\n");
  for (const auto& args : std::vector<std::vector<std::string>>{{log, "--memory", "1000"},
                                                                {log, "--memory", "3"},
                                                                {log, "--swap", "lots"},
                                                                {log, "--compressor", "200MiB"},
                                                                {log, "--resident-limit", "0"},
                                                                {log, "--resident-limit", "-3"}}) {
    const Result r = vmsim(args);
    EXPECT_EQ(r.code, 2) << args[1] << " " << args[2];
    EXPECT_TRUE(contains(r.err, args[1])) << r.err;
  }
}

// No swap and no compressor: a resident limit the program outgrows kills
// it (spec §8), a violation, exit 1.
TEST_F(LackeyCli, OutOfMemoryIsAViolation) {
  const Json j = json({kTrueLog.string(), "--resident-limit", "8", "--swap", "0"}, 1);
  EXPECT_EQ(j["result"], "violation");
  ASSERT_EQ(j["violations"].size(), 1u);
  EXPECT_EQ(j["violations"][0]["kind"], "out-of-memory");
  EXPECT_TRUE(contains(j["violations"][0]["message"].get<std::string>(), "at line ")) << j;
  EXPECT_TRUE(j["replacement"].is_null());
  EXPECT_EQ(j["stats"]["oom_kills"], 1);
  EXPECT_GT(j["lines"].get<uint64_t>(), 0u) << "the lines read up to the kill";
  EXPECT_LT(j["lines"].get<uint64_t>(), 171369u);
  // Killed as if it ran exit: its memory is gone, the state is empty
  // (the sha256 of the header line alone).
  EXPECT_EQ(j["digest"], "0aeac78495ab45babb91fa88594dbf3c167d83ab33a21e8732a3281b43cd6d92");
}

// Random logs: pressure of every kind gives the digest of the run without
// it, and with stores only (every page a frame, none the zero page) the
// core can miss no less than OPT, which no less than LRU can.
TEST_F(LackeyCli, RandomLogsUnderPressure) {
  std::mt19937_64 rng(2026);
  for (int round = 0; round < 6; ++round) {
    const bool stores_only = round % 2 == 0;
    std::string log = "==7== random log " + std::to_string(round) + "\n";
    const int pages = 16 + static_cast<int>(rng() % 48);
    for (int i = 0; i < 3000; ++i) {
      // Skewed towards low pages, over three 2 MiB chunks.
      const uint64_t page = std::min(rng() % pages, rng() % pages);
      const uint64_t chunk = 0x10000000 + (page % 3) * 0x200000;
      const uint64_t addr = chunk + (page / 3) * 4096 + rng() % 4096;
      const int size = 1 << (rng() % 5);
      const char kind = stores_only ? 'S' : "LSM"[rng() % 3];
      char line[64];
      std::snprintf(line, sizeof line, " %c %llx,%d\n", kind, static_cast<unsigned long long>(addr),
                    size);
      log += line;
      if (rng() % 8 == 0) log += "I  04016c50,3\n";
    }
    const std::string path = write("random.log", log);
    const Json free_run = json({path});
    const uint64_t distinct = free_run["replacement"]["distinct_pages"];
    for (const uint64_t limit : {distinct / 10 + 1, distinct / 3, distinct * 4 / 5}) {
      for (const bool compressor : {false, true}) {
        std::vector<std::string> args = {path, "--resident-limit", std::to_string(limit)};
        if (compressor) args.insert(args.end(), {"--compressor", "16KiB", "--swap", "1MiB"});
        const Json j = json(args);
        ASSERT_EQ(j["digest"], free_run["digest"]) << "round " << round << " limit " << limit;
        const Json& r = j["replacement"];
        EXPECT_LE(j["stats"]["resident_user_peak"].get<uint64_t>(), limit);
        EXPECT_GE(r["lru_misses"].get<uint64_t>(), r["opt_misses"].get<uint64_t>());
        if (stores_only) {
          EXPECT_GE(r["core_misses"].get<uint64_t>(), r["opt_misses"].get<uint64_t>())
              << "round " << round << " limit " << limit;
        }
      }
    }
  }
}

}  // namespace
