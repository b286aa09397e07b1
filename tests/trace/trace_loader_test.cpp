// Valid traces: every field lands where trace.hpp says, defaults included.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "trace/json_reader.hpp"
#include "trace/trace.hpp"
#include "trace/trace_loader.hpp"
#include "trace_test_util.hpp"

namespace vmsim {
namespace {

using testing::kFullTrace;
using testing::load_error;
using testing::load_ok;
using testing::with_members;
using testing::with_ops;

TEST(TraceLoader, FullTraceTopLevelMachineAndFiles) {
  Trace t = load_ok(kFullTrace);
  EXPECT_EQ(t.file, "t.json");
  EXPECT_EQ(t.name, "every-op");
  EXPECT_EQ(t.description, "Uses every op and every key.");
  EXPECT_EQ(t.machine.cpus, 4u);
  EXPECT_EQ(t.machine.memory, 128ull << 20);
  EXPECT_EQ(t.machine.swap, 16ull << 20);
  EXPECT_EQ(t.machine.reserved, 1ull << 20);
  EXPECT_EQ(t.machine.compressor, 8ull << 20);

  ASSERT_EQ(t.files.size(), 2u);
  EXPECT_EQ(t.files[0].name, "data.bin");
  EXPECT_EQ(t.files[0].size, 65536u);
  EXPECT_FALSE(t.files[0].seeded);
  EXPECT_EQ(t.files[0].fill, 171);
  EXPECT_EQ(t.files[0].path, "files[0]");
  EXPECT_EQ(t.files[1].name, "seeded");
  EXPECT_EQ(t.files[1].size, 8192u);
  EXPECT_TRUE(t.files[1].seeded);
  EXPECT_EQ(t.files[1].seed, 0xdeadbeefcafef00dull);
}

TEST(TraceLoader, FullTraceThreadsAndOps) {
  Trace t = load_ok(kFullTrace);
  ASSERT_EQ(t.threads.size(), 2u);
  const ThreadSpec& main = t.threads[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.process, "p");
  EXPECT_EQ(main.cpu, 3u);
  EXPECT_EQ(main.path, "threads[0]");
  ASSERT_EQ(main.ops.size(), 26u);
  const auto& ops = main.ops;

  const Op& mmap = ops[0];
  EXPECT_EQ(mmap.kind, OpKind::kMmap);
  EXPECT_EQ(mmap.path, "threads[0].ops[0]");
  EXPECT_EQ(mmap.loc.line, 13u);
  EXPECT_EQ(mmap.loc.column, 7u);
  EXPECT_TRUE(mmap.has_addr);
  EXPECT_FALSE(mmap.addr.is_label());
  EXPECT_EQ(mmap.addr.offset, 0x20000000u);
  EXPECT_EQ(mmap.len, 2u << 20);
  EXPECT_EQ(mmap.prot, kR | kW);
  EXPECT_FALSE(mmap.shared);
  EXPECT_TRUE(mmap.fixed);
  EXPECT_TRUE(mmap.populate);
  EXPECT_EQ(mmap.file, "");
  EXPECT_EQ(mmap.as, "heap");
  EXPECT_EQ(mmap.result, ExpectedResult::kOk);
  EXPECT_FALSE(mmap.result_given);
  EXPECT_FALSE(mmap.expect_fault.has_value());

  const Op& file_map = ops[1];
  EXPECT_FALSE(file_map.has_addr);
  EXPECT_EQ(file_map.len, 16384u);
  EXPECT_EQ(file_map.prot, kR);
  EXPECT_TRUE(file_map.shared);
  EXPECT_EQ(file_map.file, "data.bin");
  EXPECT_EQ(file_map.offset, 0x1000u);
  EXPECT_FALSE(file_map.populate);
  EXPECT_EQ(file_map.as, "map");

  EXPECT_EQ(ops[2].kind, OpKind::kMunmap);
  EXPECT_EQ(ops[2].addr.label, "heap");
  EXPECT_EQ(ops[2].addr.offset, 0x100000u);
  EXPECT_EQ(ops[2].len, 1u << 20);

  EXPECT_EQ(ops[3].kind, OpKind::kMprotect);
  EXPECT_EQ(ops[3].addr.label, "heap");
  EXPECT_EQ(ops[3].addr.offset, 0u);
  EXPECT_EQ(ops[3].prot, kR | kX);

  EXPECT_EQ(ops[4].kind, OpKind::kMadvise);
  EXPECT_EQ(ops[4].addr.offset, 4096u);
  EXPECT_EQ(ops[4].len, 8192u);
  EXPECT_EQ(ops[4].advice, Advice::kWillneed);

  EXPECT_EQ(ops[5].kind, OpKind::kBrk);
  EXPECT_EQ(ops[5].addr.offset, 0x10004000u);

  EXPECT_EQ(ops[6].kind, OpKind::kSbrk);
  EXPECT_EQ(ops[6].incr, -4096);

  EXPECT_EQ(ops[7].kind, OpKind::kRead);
  EXPECT_EQ(ops[7].addr.label, "map");
  EXPECT_EQ(ops[7].addr.offset, 8u);
  EXPECT_EQ(ops[7].size, 8u);
  EXPECT_TRUE(ops[7].has_value);
  EXPECT_EQ(ops[7].value, 0xababababababababull);

  EXPECT_EQ(ops[8].addr.offset, 536875008u);
  EXPECT_EQ(ops[8].size, 1u);  // default
  EXPECT_FALSE(ops[8].has_value);

  EXPECT_EQ(ops[9].kind, OpKind::kWrite);
  EXPECT_EQ(ops[9].addr.offset, 8196u);
  EXPECT_EQ(ops[9].size, 4u);
  EXPECT_EQ(ops[9].value, 305419896u);

  EXPECT_EQ(ops[10].size, 1u);
  EXPECT_EQ(ops[10].value, 255u);
  EXPECT_EQ(ops[10].expect_fault, FaultKind::kSegv);

  EXPECT_EQ(ops[11].kind, OpKind::kTouch);
  EXPECT_EQ(ops[11].len, 65536u);
  EXPECT_TRUE(ops[11].touch_write);
  EXPECT_EQ(ops[11].stride, 0x2000u);
  EXPECT_EQ(ops[11].value, 90u);

  EXPECT_FALSE(ops[12].touch_write);
  EXPECT_EQ(ops[12].stride, 4096u);  // default
  EXPECT_EQ(ops[12].value, 0u);

  EXPECT_EQ(ops[13].kind, OpKind::kFork);
  EXPECT_EQ(ops[13].child, "child");

  EXPECT_EQ(ops[14].kind, OpKind::kPoke);
  EXPECT_EQ(ops[14].process, "child");
  EXPECT_EQ(ops[14].addr.offset, 0x3000u);
  EXPECT_EQ(ops[14].size, 2u);
  EXPECT_EQ(ops[14].value, 0xbeefu);

  EXPECT_EQ(ops[15].kind, OpKind::kTruncate);
  EXPECT_EQ(ops[15].file, "data.bin");
  EXPECT_EQ(ops[15].file_size, 0x800u);

  EXPECT_EQ(ops[16].kind, OpKind::kPwrite);
  EXPECT_EQ(ops[16].file, "seeded");
  EXPECT_EQ(ops[16].offset, 100u);
  EXPECT_EQ(ops[16].value, 7u);
  EXPECT_EQ(ops[16].len, 3u);

  EXPECT_EQ(ops[17].kind, OpKind::kCachePut);
  EXPECT_EQ(ops[17].id, 42u);
  EXPECT_EQ(ops[17].len, 8192u);

  EXPECT_EQ(ops[18].kind, OpKind::kCacheGet);
  EXPECT_EQ(ops[18].id, 42u);
  EXPECT_EQ(ops[18].result, ExpectedResult::kHit);
  EXPECT_TRUE(ops[18].result_given);
  EXPECT_FALSE(ops[19].result_given);  // either outcome is accepted

  EXPECT_EQ(ops[20].kind, OpKind::kPageout);
  EXPECT_EQ(ops[20].pages, 16u);
  EXPECT_EQ(ops[21].kind, OpKind::kYield);

  EXPECT_EQ(ops[22].result, ExpectedResult::kEinval);
  EXPECT_EQ(ops[22].prot, kW);

  EXPECT_EQ(ops[23].kind, OpKind::kExec);
  EXPECT_EQ(ops[23].text, 8192u);
  EXPECT_EQ(ops[23].data, 4096u);
  EXPECT_EQ(ops[23].bss, 0x3000u);
  EXPECT_EQ(ops[23].stack, 65536u);
  EXPECT_EQ(ops[23].result, ExpectedResult::kEnomem);

  EXPECT_EQ(ops[24].expect_fault, FaultKind::kBus);
  EXPECT_EQ(ops[25].kind, OpKind::kExit);

  const ThreadSpec& worker = t.threads[1];
  EXPECT_EQ(worker.name, "worker.1");
  EXPECT_EQ(worker.process, "child");
  EXPECT_EQ(worker.cpu, 0u);  // default
  ASSERT_EQ(worker.ops.size(), 2u);
  EXPECT_EQ(worker.ops[0].path, "threads[1].ops[0]");
}

TEST(TraceLoader, FullTraceScheduleAndExpect) {
  Trace t = load_ok(kFullTrace);
  EXPECT_EQ(t.schedule.policy, Policy::kRoundRobin);
  ASSERT_EQ(t.schedule.steps.size(), 4u);
  const auto& s = t.schedule.steps;
  EXPECT_EQ(s[0].kind, ScheduleStep::Kind::kOps);
  EXPECT_EQ(s[0].thread, "main");
  EXPECT_EQ(s[0].ops, 3u);
  EXPECT_EQ(s[0].path, "schedule[0]");
  EXPECT_EQ(s[1].kind, ScheduleStep::Kind::kUntil);
  EXPECT_EQ(s[1].point, "fault.pte_install");
  EXPECT_EQ(s[1].count, 2u);
  EXPECT_EQ(s[2].kind, ScheduleStep::Kind::kUntil);
  EXPECT_EQ(s[2].count, 1u);  // default
  EXPECT_EQ(s[3].kind, ScheduleStep::Kind::kRun);
  EXPECT_EQ(s[3].thread, "worker.1");

  EXPECT_EQ(t.expect.result, "violation");
  EXPECT_EQ(t.expect.violation, "stale-tlb");
  EXPECT_EQ(t.expect.digest, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  EXPECT_EQ(t.expect.stats, (std::map<std::string, int64_t>{{"faults", 12}, {"signals_segv", 1}}));
}

TEST(TraceLoader, DefaultsOfAMinimalTrace) {
  Trace t = load_ok(with_ops(R"({"op": "yield"})"));
  EXPECT_EQ(t.description, "");
  EXPECT_EQ(t.machine.cpus, 1u);
  EXPECT_EQ(t.machine.memory, 64ull << 20);
  EXPECT_EQ(t.machine.swap, 0u);
  EXPECT_EQ(t.machine.reserved, 0u);
  EXPECT_EQ(t.machine.compressor, 0u);
  EXPECT_EQ(t.schedule.policy, Policy::kRoundRobin);
  EXPECT_EQ(t.schedule.seed, 0u);
  EXPECT_TRUE(t.schedule.steps.empty());
  EXPECT_FALSE(t.expect.result.has_value());
  EXPECT_FALSE(t.expect.violation.has_value());
  EXPECT_FALSE(t.expect.digest.has_value());
  EXPECT_TRUE(t.expect.stats.empty());
  ASSERT_EQ(t.threads.size(), 1u);
  EXPECT_EQ(t.threads[0].cpu, 0u);
}

TEST(TraceLoader, ScheduleObject) {
  Trace t =
      load_ok(with_members(R"("schedule": {"policy": "random", "seed": "0xffffffffffffffff"})"));
  EXPECT_EQ(t.schedule.policy, Policy::kRandom);
  EXPECT_EQ(t.schedule.seed, UINT64_MAX);
  t = load_ok(with_members(R"("schedule": {"policy": "sequential"})"));
  EXPECT_EQ(t.schedule.policy, Policy::kSequential);
}

// Spec §8: `oom` on an access or a call, and the violation kind out-of-memory.
TEST(TraceLoader, OutOfMemoryExpectations) {
  Trace t = load_ok(with_ops(
      R"({"op": "touch", "addr": 65536, "len": 4096, "access": "w", "expect_fault": "oom"},
    {"op": "mmap", "len": 4096, "prot": "rw", "share": "private", "populate": true, "expect_fault": "oom"},
    {"op": "fork", "child": "c", "expect_fault": "oom"})"));
  ASSERT_EQ(t.threads.size(), 1u);
  ASSERT_EQ(t.threads[0].ops.size(), 3u);
  for (const Op& op : t.threads[0].ops) EXPECT_EQ(op.expect_fault, FaultKind::kOom);
  t = load_ok(
      with_members(R"("expect": {"violation": "out-of-memory", "stats": {"oom_kills": 0, )"
                   R"("resident_user_peak": 1, "swap_outs": 0, "compressor_bytes_peak": 0}})"));
  EXPECT_EQ(t.expect.violation, "out-of-memory");
  EXPECT_EQ(t.expect.result, "violation");
}

TEST(TraceLoader, ViolationAloneImpliesResultViolation) {
  Trace t = load_ok(with_members(R"("expect": {"violation": "leak"})"));
  EXPECT_EQ(t.expect.result, "violation");
  t = load_ok(with_members(R"("expect": {"result": "pass", "stats": {}})"));
  EXPECT_EQ(t.expect.result, "pass");
}

TEST(TraceLoader, SizesInEachForm) {
  struct Case {
    const char* text;
    uint64_t bytes;
  } cases[] = {
      {"0", 0},
      {"4096", 4096},
      {R"("4096")", 4096},
      {R"("0")", 0},
      {R"("0x1000")", 4096},
      {R"("0xABCdef")", 0xabcdef},
      {R"("0x0000000000000000ffffffffffffffff")", UINT64_MAX},
      {R"("18446744073709551615")", UINT64_MAX},
      {"18446744073709551615", UINT64_MAX},
      {R"("64KiB")", 64 << 10},
      {R"("3MiB")", 3 << 20},
      {R"("2GiB")", 2ull << 30},
      {R"("0KiB")", 0},
      {R"("17179869183GiB")", 17179869183ull << 30},
  };
  for (const Case& c : cases) {
    Trace t =
        load_ok(with_ops(std::string(R"({"op": "munmap", "addr": 65536, "len": )") + c.text + "}"));
    ASSERT_EQ(t.threads.size(), 1u) << c.text;
    EXPECT_EQ(t.threads[0].ops[0].len, c.bytes) << c.text;
  }
}

TEST(TraceLoader, LabelsMayBeUsedBeforeTheirBindingAndAcrossThreads) {
  Trace t = load_ok(R"({"format": "vmsim-trace/1", "name": "t", "threads": [
    {"name": "a", "process": "p", "ops": [{"op": "read", "addr": "@late+0x10", "size": 8}]},
    {"name": "b", "process": "p", "ops": [
      {"op": "mmap", "len": 4096, "prot": "r", "share": "private", "as": "late"}]}]})");
  ASSERT_EQ(t.threads.size(), 2u);
  EXPECT_EQ(t.threads[0].ops[0].addr.label, "late");
  EXPECT_EQ(t.threads[0].ops[0].addr.offset, 16u);
}

TEST(TraceLoader, MachineAfterThreadsStillBoundsCpus) {
  Trace t = load_ok(R"({"format": "vmsim-trace/1", "name": "t",
    "threads": [{"name": "a", "process": "p", "cpu": 63, "ops": []}],
    "machine": {"cpus": 64, "memory": "4GiB", "reserved": "0x7ffff000"}})");
  EXPECT_EQ(t.threads[0].cpu, 63u);
  EXPECT_EQ(t.machine.memory, 4ull << 30);
}

TEST(TraceLoader, LimitsAreInclusiveWhereTheDocsSaySo) {
  Trace t = load_ok(with_members(
      R"("machine": {"memory": "1MiB", "swap": "64GiB", "compressor": "1MiB", "reserved": 0})"));
  EXPECT_EQ(t.machine.memory, 1u << 20);
  EXPECT_EQ(t.machine.swap, 64ull << 30);
  t = load_ok(R"({"format": "vmsim-trace/1", "name": "t",
    "files": [{"name": "big", "size": "4GiB", "content": {"seed": 18446744073709551615}}],
    "threads": [{"name": "a", "process": "p", "ops": [
      {"op": "sbrk", "incr": 9223372036854775807},
      {"op": "sbrk", "incr": -9223372036854775807},
      {"op": "write", "addr": 65536, "size": 8, "value": "0xffffffffffffffff"},
      {"op": "pwrite", "file": "big", "offset": "0xfffffffe", "value": 255, "len": 2},
      {"op": "exec", "text": "64GiB", "data": 0, "bss": 0, "stack": 0}]}]})");
  ASSERT_EQ(t.threads.size(), 1u);
  EXPECT_EQ(t.files[0].size, 4ull << 30);
  EXPECT_EQ(t.threads[0].ops[1].incr, -INT64_MAX);
}

TEST(TraceLoader, NonAsciiDescriptionAndEscapes) {
  Trace t = load_ok(R"({"format": "vmsim-trace/1", "name": "caf\u0065",
    "description": "caf\u00e9 \ud83d\ude00 line\nnext \"quoted\" \\ \/ é",
    "threads": [{"name": "a", "process": "p", "ops": []}]})");
  EXPECT_EQ(t.name, "cafe");
  EXPECT_EQ(t.description, "caf\xc3\xa9 \xf0\x9f\x98\x80 line\nnext \"quoted\" \\ / \xc3\xa9");
}

TEST(TraceLoader, MembersInAnyOrder) {
  Trace t = load_ok(R"({"threads": [{"ops": [{"share": "shared", "len": 1, "prot": "w",
    "op": "mmap"}], "cpu": 0, "process": "p", "name": "a"}],
    "name": "t", "format": "vmsim-trace/1"})");
  ASSERT_EQ(t.threads.size(), 1u);
  EXPECT_EQ(t.threads[0].ops[0].kind, OpKind::kMmap);
  EXPECT_TRUE(t.threads[0].ops[0].shared);
}

TEST(TraceLoader, TheDocumentedExampleLoads) {
  std::ifstream doc(VMSIM_TRACE_DOC);
  ASSERT_TRUE(doc) << VMSIM_TRACE_DOC;
  std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  size_t start = text.find("```json\n");
  ASSERT_NE(start, std::string::npos);
  start += 8;
  Trace t = load_ok(text.substr(start, text.find("```", start) - start));
  EXPECT_EQ(t.name, "cow-after-fork");
  EXPECT_EQ(t.threads.size(), 2u);
}

class TraceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("vmsim_trace_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(TraceFileTest, LoadsAFile) {
  std::string path = write("full.json", kFullTrace);
  auto r = load_trace_file(path);
  ASSERT_TRUE(std::holds_alternative<Trace>(r)) << std::get<LoadError>(r).message;
  EXPECT_EQ(std::get<Trace>(r).file, path);
}

TEST_F(TraceFileTest, ByteOrderMarkIsSkipped) {
  std::string path = write("bom.json", "\xef\xbb\xbf" + with_ops(R"({"op": "yield"})"));
  auto r = load_trace_file(path);
  ASSERT_TRUE(std::holds_alternative<Trace>(r)) << std::get<LoadError>(r).message;
  // Columns after a BOM start at 1, as editors show them.
  path = write("bom_bad.json", "\xef\xbb\xbf{\"format\": 1}");
  r = load_trace_file(path);
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_EQ(std::get<LoadError>(r).message,
            path + R"(:1:12: format: expected "vmsim-trace/1", got 1)");
}

TEST_F(TraceFileTest, MissingFile) {
  std::string path = (dir_ / "nope.json").string();
  auto r = load_trace_file(path);
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_EQ(std::get<LoadError>(r).message, path + ": cannot read: No such file or directory");
}

TEST_F(TraceFileTest, DirectoryIsNotReadable) {
  auto r = load_trace_file(dir_.string());
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_EQ(std::get<LoadError>(r).message, dir_.string() + ": cannot read: Is a directory");
}

TEST_F(TraceFileTest, TooLarge) {
  // A sparse file one byte over the limit: its size alone is the error.
  std::string path = write("large.json", "");
  std::filesystem::resize_file(path, json::kMaxInputBytes + 1);
  auto r = load_trace_file(path);
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_EQ(std::get<LoadError>(r).message, path + ": file too large (more than 64 MiB)");
}

}  // namespace
}  // namespace vmsim
