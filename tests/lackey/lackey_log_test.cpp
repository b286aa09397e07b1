// The lackey log reader (spec §11): what it accepts, what it skips, and the
// line number of everything it refuses; gzip, truncated gzip, long logs.
#include "lackey/lackey_log.hpp"

#include "scratch_dir.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vmsim {
namespace {

namespace fs = std::filesystem;

class LackeyLogTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string write_gz(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    gzFile gz = gzopen(p.c_str(), "wb");
    EXPECT_NE(gz, nullptr);
    EXPECT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    gzclose(gz);
    return p.string();
  }

  // Every access of the log, and its error ("" at a clean end).
  std::vector<LackeyAccess> read_all(const std::string& path, std::string* error) {
    auto opened = LackeyLog::open(path);
    if (auto* e = std::get_if<std::string>(&opened)) {
      *error = *e;
      return {};
    }
    LackeyLog& log = *std::get<std::unique_ptr<LackeyLog>>(opened);
    std::vector<LackeyAccess> out;
    LackeyAccess a;
    while (log.next(&a)) out.push_back(a);
    *error = log.error();
    return out;
  }

  vmsim::test_support::ScratchDir scratch_dir_{"vmsim-lackey"};
  const fs::path& dir_ = scratch_dir_.path();
};

const char kValid[] =
    "==25904== Lackey, an example Valgrind tool\n"
    "==25904== \n"
    "I  0401ab70,3\n"
    " S 1fff000618,8\n"
    "--25904-- WARNING: unhandled amd64-linux syscall: 999\n"
    " L 04222CAC,4\n"
    " M 0421ae40,16\n"
    "I  0401ab73,5\n"
    " L 7ff0,1";  // the last line may lack its newline

TEST_F(LackeyLogTest, ReadsDataAccessesAndSkipsTheRest) {
  std::string error;
  const auto a = read_all(write("a.log", kValid), &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].kind, LackeyAccess::Kind::kStore);
  EXPECT_EQ(a[0].addr, 0x1fff000618u);
  EXPECT_EQ(a[0].size, 8u);
  EXPECT_EQ(a[0].line, 4u);
  EXPECT_EQ(a[1].kind, LackeyAccess::Kind::kLoad);
  EXPECT_EQ(a[1].addr, 0x4222cacu) << "hex digits of either case";
  EXPECT_EQ(a[2].kind, LackeyAccess::Kind::kModify);
  EXPECT_EQ(a[2].size, 16u);
  EXPECT_EQ(a[3].addr, 0x7ff0u);
  EXPECT_EQ(a[3].line, 9u);
}

TEST_F(LackeyLogTest, GzipGivesTheSameAccesses) {
  std::string e1, e2;
  const auto plain = read_all(write("a.log", kValid), &e1);
  const auto gz = read_all(write_gz("a.log.gz", kValid), &e2);
  EXPECT_EQ(e2, "");
  ASSERT_EQ(plain.size(), gz.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i].addr, gz[i].addr);
    EXPECT_EQ(plain[i].line, gz[i].line);
  }
}

TEST_F(LackeyLogTest, MalformedLinesNameTheirLineNumber) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" X 1000,8", "a data access of kind L, S or M"},
      {" L 1000", "a hex address and a comma"},
      {" L ,8", "a hex address and a comma"},
      {" L 1000,", "a decimal size after the comma"},
      {" L 1000,8x", "a decimal size and the end of the line"},
      {" L 1000,0", "a size of 1 to 65536 bytes"},
      {" L 1000,65537", "a size of 1 to 65536 bytes"},
      {" L 1000,99999999999999999999999", "a size of 1 to 65536 bytes"},
      {" L 11112222333344445,8", "an address of at most 16 hex digits"},
      {"L 1000,8", "a lackey line"},
      {"  L 1000,8", "a lackey line"},
      {"", "a lackey line"},
      {"hello from the program", "a lackey line"},
      {" L 1000,8\r", "a decimal size and the end of the line"},
  };
  for (const auto& [line, expected] : cases) {
    std::string error;
    const std::string path =
        write("bad.log", "I  0401ab70,3\n L 2000,4\n" + line + "\n L 3000,4\n");
    const auto a = read_all(path, &error);
    EXPECT_EQ(a.size(), 1u) << line;
    EXPECT_NE(error.find(path + ":3: expected " + expected), std::string::npos)
        << "line " << line << " gave: " << error;
  }
}

TEST_F(LackeyLogTest, TruncatedGzipIsAnErrorWithItsLine) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += " L " + std::to_string(0x10000 + i * 8) + ",8\n";
  const std::string whole = write_gz("whole.log.gz", text);
  std::ifstream in(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string cut = write("cut.log.gz", bytes.substr(0, bytes.size() / 2));
  std::string error;
  const auto a = read_all(cut, &error);
  EXPECT_GT(a.size(), 0u);
  EXPECT_LT(a.size(), 20000u);
  EXPECT_NE(error.find(cut + ":" + std::to_string(a.size() + 1) + ": the gzip stream is truncated"),
            std::string::npos)
      << error;
}

TEST_F(LackeyLogTest, LongLinesAreRefused) {
  std::string error;
  read_all(write("long.log", " L 1000,8\n==1== " + std::string(5000, 'x') + "\n"), &error);
  EXPECT_NE(error.find(":2: a line longer than 4096 bytes"), std::string::npos) << error;
}

TEST_F(LackeyLogTest, MissingFileAndDirectoryAreErrors) {
  std::string error;
  read_all((dir_ / "missing.log").string(), &error);
  EXPECT_NE(error.find("missing.log: cannot open"), std::string::npos) << error;
  read_all(dir_.string(), &error);
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
}

// A log of more than one buffer (1 MiB) with lines across the seams.
TEST_F(LackeyLogTest, StreamsLogsLargerThanItsBuffer) {
  std::string text;
  uint64_t expected = 0;
  for (int i = 0; i < 200000; ++i) {
    text += "I  04016c50,3\n";
    text += " S 7ff000398,8\n";
    ++expected;
  }
  std::string error;
  const auto a = read_all(write_gz("big.log.gz", text), &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(a.size(), expected);
  EXPECT_EQ(a.back().line, 2 * expected);
}

}  // namespace
}  // namespace vmsim
