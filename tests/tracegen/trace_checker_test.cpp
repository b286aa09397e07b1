// The checker itself must catch what it is there to catch.
#include "trace_checker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vmsim::tracegen::testing {
namespace {

using Json = nlohmann::json;

Json trace_with_ops(const Json& ops) {
  return Json{{"format", "vmsim-trace/1"},
              {"name", "t"},
              {"machine", {{"cpus", 2}}},
              {"threads", {{{"name", "p0.t0"}, {"process", "p0"}, {"cpu", 1}, {"ops", ops}}}}};
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const std::string& problem : problems) {
    if (problem.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(TraceChecker, AcceptsAGoodTrace) {
  const Json ops = Json::parse(R"([
    {"op":"mmap","len":"8KiB","prot":"rw","share":"private","as":"a"},
    {"op":"write","addr":"@a+0x8","size":8,"value":"0xffffffffffffffff"},
    {"op":"read","addr":65544,"size":4},
    {"op":"touch","addr":"@a","len":"0x2000","access":"w","stride":64,"value":7},
    {"op":"sbrk","incr":-4096},
    {"op":"yield"}])");
  const auto problems = check_generated_trace(trace_with_ops(ops));
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST(TraceChecker, CatchesEachKindOfMistake) {
  struct Case {
    const char* op;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"op":"read","addr":4096,"value":1})", "value on a read"},
      {R"({"op":"read","addr":4098,"size":4})", "not aligned to 4"},
      {R"({"op":"write","addr":"@b+0x4","size":8,"value":1})", "not aligned to 8"},
      {R"({"op":"write","addr":"@nowhere","value":1})", "not bound earlier"},
      {R"({"op":"write","addr":4096,"size":2,"value":65536})", "does not fit"},
      {R"({"op":"write","addr":4096,"size":8,"value":9007199254740993})", "at or above 2^53"},
      {R"({"op":"munmap","addr":4096,"len":4096,"expect_fault":"segv"})", "no expectations"},
      {R"({"op":"munmap","addr":4096,"lenght":4096})", "not allowed"},
      {R"({"op":"mprotect","addr":4096,"len":4096})", "missing required key 'prot'"},
      {R"({"op":"mmap","len":"4kb","prot":"rw","share":"private"})", "not a size"},
      {R"({"op":"mmap","len":4096,"prot":"rr","share":"private"})", "bad prot"},
      {R"({"op":"mmap","len":4096,"prot":"r","share":"private","as":"b"})", "reused"},
      {R"({"op":"touch","addr":4096,"len":1,"access":"r","value":1})", "value on a read touch"},
      {R"({"op":"fork","child":"q"})", "not generated"},
  };
  for (const Case& c : cases) {
    Json ops = Json::array();
    ops.push_back(
        Json::parse(R"({"op":"mmap","len":4096,"prot":"rw","share":"private","as":"b"})"));
    ops.push_back(Json::parse(c.op));
    const auto problems = check_generated_trace(trace_with_ops(ops));
    EXPECT_TRUE(mentions(problems, c.expected)) << c.op << " should report '" << c.expected << "'";
  }
}

TEST(TraceChecker, CatchesBadSchedulesAndThreads) {
  Json trace = trace_with_ops(Json::parse(R"([{"op":"yield"},{"op":"yield"}])"));
  trace["schedule"] = Json::parse(R"([{"thread":"p0.t0","ops":2},{"thread":"p0.t0"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "already finished"));
  trace["schedule"] = Json::parse(R"([{"thread":"p9.t0"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "unknown thread"));
  trace.erase("schedule");
  trace["threads"][0]["cpu"] = 2;
  EXPECT_TRUE(mentions(check_generated_trace(trace), "not below machine.cpus"));
}

}  // namespace
}  // namespace vmsim::tracegen::testing
