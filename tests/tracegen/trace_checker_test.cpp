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
      {R"({"op":"cache_get","id":1,"addr":4096})", "not generated"},
      {R"({"op":"poke","process":"p0","addr":4098,"size":4,"value":1})", "not aligned to 4"},
      {R"({"op":"poke","process":"p0","addr":4096,"value":1})", "missing required key 'size'"},
      {R"({"op":"poke","process":"p0","addr":4096,"size":1,"value":256})", "does not fit"},
      {R"({"op":"poke","process":"nobody","addr":4096,"size":1,"value":1})", "does not exist"},
      {R"({"op":"mmap","len":4096,"prot":"r","share":"shared","file":"nofile"})", "not a file"},
      {R"({"op":"mmap","len":4096,"prot":"r","share":"shared","offset":0})", "offset without"},
      {R"({"op":"truncate","file":"nofile","size":0})", "not a file"},
      {R"({"op":"pwrite","file":"f0","offset":0,"value":256,"len":1})", "not a byte"},
      {R"({"op":"pwrite","file":"f0","offset":"4GiB","value":1,"len":1})", "past 4GiB"},
      {R"({"op":"exec","text":0,"data":0,"bss":0})", "missing required key 'stack'"},
      {R"({"op":"exit","code":0})", "not allowed"},
      {R"({"op":"fork","child":"p0"})", "forked by itself"},
  };
  for (const Case& c : cases) {
    Json ops = Json::array();
    ops.push_back(
        Json::parse(R"({"op":"mmap","len":4096,"prot":"rw","share":"private","as":"b"})"));
    ops.push_back(Json::parse(c.op));
    Json trace = trace_with_ops(ops);
    trace["files"] = Json::parse(R"([{"name":"f0","size":4096,"content":{"fill":0}}])");
    const auto problems = check_generated_trace(trace);
    EXPECT_TRUE(mentions(problems, c.expected)) << c.op << " should report '" << c.expected << "'";
  }
}

TEST(TraceChecker, AcceptsTheOpsOfTheNextMilestone) {
  Json trace = trace_with_ops(Json::parse(R"([
    {"op":"mmap","len":"8KiB","prot":"rw","share":"shared","file":"f0","offset":"0x1000","as":"a"},
    {"op":"pwrite","file":"f0","offset":100,"value":7,"len":"4KiB"},
    {"op":"truncate","file":"f0","size":5000},
    {"op":"fork","child":"c"},
    {"op":"poke","process":"c","addr":"@a+0x8","size":8,"value":"0x1"},
    {"op":"exec","text":4096,"data":"8KiB","bss":0,"stack":"0x1000"},
    {"op":"exit"}])"));
  trace["files"] = Json::parse(R"([{"name":"f0","size":4096,"content":{"seed":"0x12"}}])");
  trace["threads"].push_back(Json::parse(
      R"({"name":"c.t0","process":"c","ops":[{"op":"poke","process":"c","addr":65536,"size":1,"value":1}]})"));
  trace["schedule"] = Json::parse(R"({"policy":"sequential"})");
  const auto problems = check_generated_trace(trace);
  EXPECT_TRUE(problems.empty()) << problems.front();
}

// Forks, exits and pokes that some run order would break.
TEST(TraceChecker, CatchesOrderDependentProcessOps) {
  const Json files = Json::parse(R"([{"name":"f0","size":0,"content":{"fill":1}}])");
  auto two_threads = [&](const char* first, const char* second) {
    Json trace = trace_with_ops(Json::parse(first));
    trace["threads"].push_back(
        Json{{"name", "q.t0"}, {"process", "q"}, {"ops", Json::parse(second)}});
    trace["files"] = files;
    return trace;
  };
  // exit before the thread's end, and in a process with two threads
  Json trace = two_threads(R"([{"op":"exit"},{"op":"yield"}])", R"([{"op":"yield"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "not the thread's last op"));
  trace["threads"][1]["process"] = "p0";
  trace["threads"][1]["name"] = "p0.t1";
  trace["threads"][0]["ops"] = Json::parse(R"([{"op":"exit"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "more than one thread"));
  // a poke into a process that exits
  trace = two_threads(R"([{"op":"exit"}])",
                      R"([{"op":"poke","process":"p0","addr":65536,"size":1,"value":1}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "may have exited"));
  // a poke into a forked process from a thread its fork need not precede
  trace = two_threads(R"([{"op":"fork","child":"c"}])",
                      R"([{"op":"poke","process":"c","addr":65536,"size":1,"value":1}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "may not be forked yet"));
  trace = two_threads(R"([{"op":"poke","process":"c","addr":65536,"size":1,"value":1},
                          {"op":"fork","child":"c"}])",
                      R"([{"op":"yield"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "may not be forked yet"));
  // a schedule step naming a thread of a forked process
  trace = two_threads(R"([{"op":"fork","child":"q"}])", R"([{"op":"yield"}])");
  EXPECT_TRUE(check_generated_trace(trace).empty());
  trace["schedule"] = Json::parse(R"([{"thread":"q.t0"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "may not have started"));
  // a second fork of the same child
  trace = two_threads(R"([{"op":"fork","child":"c"},{"op":"fork","child":"c"}])",
                      R"([{"op":"yield"}])");
  EXPECT_TRUE(mentions(check_generated_trace(trace), "forked twice"));
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
