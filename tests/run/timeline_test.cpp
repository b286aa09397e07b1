// Timeline: the Chrome trace-event JSON must parse, name every CPU and
// thread, nest per track, and be the same bytes for the same calls.
#include "run/timeline.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

namespace vmsim {
namespace {

using nlohmann::json;

// Two threads on two CPUs; t1 is preempted inside a fault by t2.
Timeline Sample() {
  Timeline tl(2, {"t1", "t2"});
  tl.switch_to(0, 0);
  tl.op_begin(0, 0, 0, "read of 8 bytes at 0x10000");
  tl.yield_point(0, 0, "fault.begin");
  tl.fault_begin(0, 0, 0x10000, false);
  tl.yield_point(0, 0, "fault.lookup_done");
  tl.switch_to(1, 1);
  tl.op_begin(1, 1, 0, "munmap of 0x1000 bytes at 0x10000");
  tl.yield_point(1, 1, "munmap.pte_cleared");
  tl.shootdown(1, 0b11, 0x10000);
  tl.op_end(1, 1, 0, "ok");
  tl.switch_to(0, 0);
  tl.fault_end(0, 0, "segv");
  tl.op_end(0, 0, 0, "segv at 0x10000");
  return tl;
}

std::pair<int, int> PidTid(const json& e) {
  return {e["pid"].get<int>(), e["tid"].get<int>()};
}

std::string MetaName(const json& events, const char* kind, int pid, int tid) {
  for (const json& e : events)
    if (e["ph"] == "M" && e["name"] == kind && e["pid"] == pid && (tid < 0 || e["tid"] == tid))
      return e["args"]["name"].get<std::string>();
  return "";
}

// Every track's B/E events nest: each E closes the innermost open B of the
// same name, timestamps only grow, and nothing stays open.
void ExpectNested(const json& events) {
  std::map<std::pair<int, int>, std::vector<std::string>> open;
  std::map<std::pair<int, int>, uint64_t> last_ts;
  for (const json& e : events) {
    const std::string ph = e["ph"];
    if (ph == "M") continue;
    const auto track = PidTid(e);
    const uint64_t ts = e["ts"];
    if (last_ts.count(track) != 0) {
      EXPECT_GT(ts, last_ts[track]) << e.dump();
    }
    last_ts[track] = ts;
    if (ph == "B") open[track].push_back(e["name"]);
    if (ph == "E") {
      ASSERT_FALSE(open[track].empty()) << "E without B: " << e.dump();
      EXPECT_EQ(open[track].back(), e["name"].get<std::string>()) << e.dump();
      open[track].pop_back();
    }
  }
  for (const auto& [track, names] : open)
    EXPECT_TRUE(names.empty()) << "track " << track.first << "/" << track.second << " left open";
}

TEST(Timeline, ParsesAndNamesCpusAndThreads) {
  const json doc = json::parse(Sample().json());
  const json& events = doc["traceEvents"];
  ASSERT_TRUE(events.is_array());
  EXPECT_EQ(MetaName(events, "process_name", 1, -1), "CPU 0");
  EXPECT_EQ(MetaName(events, "process_name", 2, -1), "CPU 1");
  EXPECT_EQ(MetaName(events, "thread_name", 1, 1), "t1");
  EXPECT_EQ(MetaName(events, "thread_name", 2, 2), "t2");
  EXPECT_EQ(MetaName(events, "thread_name", 1, 3), "running (CPU 0)");
  EXPECT_EQ(MetaName(events, "thread_name", 2, 4), "running (CPU 1)");
  EXPECT_EQ(doc["otherData"]["format"], "vmsim-timeline/1");
}

TEST(Timeline, SlicesNestPerTrack) {
  ExpectNested(json::parse(Sample().json())["traceEvents"]);
}

TEST(Timeline, EventsCarryTheirDetails) {
  const json events = json::parse(Sample().json())["traceEvents"];
  int yields = 0;
  bool saw_shootdown = false, saw_fault = false, saw_outcome = false;
  for (const json& e : events) {
    if (e["ph"] == "i" && e["cat"] == "yield") ++yields;
    if (e["name"] == "tlb shootdown") {
      saw_shootdown = true;
      EXPECT_EQ(e["pid"], 2);
      EXPECT_EQ(e["s"], "p");
      EXPECT_EQ(e["args"]["cpus"], "0,1");
      EXPECT_EQ(e["args"]["va"], "0x10000");
    }
    if (e["ph"] == "B" && e["name"] == "fault") {
      saw_fault = true;
      EXPECT_EQ(e["args"]["va"], "0x10000");
      EXPECT_EQ(e["args"]["access"], "read");
    }
    if (e["ph"] == "E" && e["name"] == "read of 8 bytes at 0x10000") {
      saw_outcome = true;
      EXPECT_EQ(e["args"]["outcome"], "segv at 0x10000");
    }
  }
  EXPECT_EQ(yields, 3);
  EXPECT_TRUE(saw_shootdown);
  EXPECT_TRUE(saw_fault);
  EXPECT_TRUE(saw_outcome);
}

TEST(Timeline, SameCallsSameBytes) {
  const std::string a = Sample().json();
  EXPECT_EQ(a, Sample().json());
  Timeline other = Sample();
  other.yield_point(0, 0, "fault.begin");
  EXPECT_NE(a, other.json());
}

TEST(Timeline, TimestampsAreOneTickPerEvent) {
  const json events = json::parse(Sample().json())["traceEvents"];
  uint64_t expect = 0;
  for (const json& e : events) {
    if (e["ph"] == "M") continue;
    EXPECT_EQ(e["ts"].get<uint64_t>(), expect++) << e.dump();
  }
}

TEST(Timeline, RunCutShortStillNests) {
  Timeline tl(1, {"t1"});
  tl.switch_to(0, 0);
  tl.op_begin(0, 0, 3, "write of 1 bytes at 0x10000");
  tl.fault_begin(0, 0, 0x10000, true);
  tl.violation("panic", "core panic: out of frames", 0, 3);
  const json events = json::parse(tl.json())["traceEvents"];
  ExpectNested(events);
  int unfinished = 0;
  for (const json& e : events) {
    if (e["ph"] == "E" && e.contains("args") && e["args"].value("unfinished", false)) ++unfinished;
    if (e["ph"] == "i" && e["cat"] == "violation") {
      EXPECT_EQ(e["name"], "violation: panic");
      EXPECT_EQ(e["s"], "g");
      EXPECT_EQ(e["args"]["thread"], "t1");
      EXPECT_EQ(e["args"]["op"], 3);
    }
  }
  EXPECT_EQ(unfinished, 2);  // the fault and the op (a running segment just ends)
}

TEST(Timeline, OpEndClosesAFaultLeftOpen) {
  Timeline tl(1, {"t1"});
  tl.op_begin(0, 0, 0, "touch");
  tl.fault_begin(0, 0, 0x10000, true);
  tl.op_end(0, 0, 0, "bus at 0x10000");
  ExpectNested(json::parse(tl.json())["traceEvents"]);
}

TEST(Timeline, MisuseIsALogicError) {
  Timeline tl(1, {"t1"});
  EXPECT_THROW(tl.op_end(0, 0, 0, "ok"), std::logic_error);
  EXPECT_THROW(tl.fault_end(0, 0, "segv"), std::logic_error);
  EXPECT_THROW(tl.op_begin(0, 5, 0, "read"), std::logic_error);
}

TEST(Timeline, WritesTheFile) {
  const std::string path = ::testing::TempDir() + "timeline_test.json";
  std::string error;
  ASSERT_TRUE(Sample().write(path, &error)) << error;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), Sample().json());
  std::remove(path.c_str());
  EXPECT_FALSE(Sample().write("/nonexistent-dir/x.json", &error));
  EXPECT_NE(error.find("/nonexistent-dir/x.json"), std::string::npos);
}

TEST(Timeline, PrintsTheSample) {  // the excerpt in docs/timeline.md comes from here
  std::printf("%s", Sample().json().c_str());
}

}  // namespace
}  // namespace vmsim

namespace vmsim {
namespace {

TEST(Timeline, MemoryCountersOnlyWhenTheyChange) {
  Timeline tl(2, {"t1"});
  tl.switch_to(0, 0);
  Timeline::MemorySample m;
  m.free_frames = 200;
  m.resident_user_pages = 10;
  tl.memory(m);
  tl.memory(m);  // unchanged: nothing written
  m.swap_slots = 3;
  m.compressor_bytes = 4096;
  tl.memory(m);
  const json doc = json::parse(tl.json());
  int counters = 0;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] != "C") continue;
    ++counters;
    EXPECT_EQ(e["pid"], 3);  // after CPUs 0 and 1
    EXPECT_EQ(e["name"], "memory");
  }
  EXPECT_EQ(counters, 2);
  EXPECT_EQ(MetaName(doc["traceEvents"], "process_name", 3, -1), "Memory");
  json last;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "C") last = e;
  EXPECT_EQ(last["args"]["swap slots"], 3);
  EXPECT_EQ(last["args"]["compressor bytes"], 4096);
}

}  // namespace
}  // namespace vmsim
