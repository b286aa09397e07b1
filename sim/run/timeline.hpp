// The run as a timeline (`vmsim replay --timeline FILE`): Chrome trace-event
// JSON that Perfetto (ui.perfetto.dev) and chrome://tracing open. See
// docs/timeline.md for what each track and event means.
//
// Layout: one process per simulated CPU ("CPU n"), holding one track per
// trace thread that ran there (named by the thread) and one "running" track
// that shows which thread the simulator ran, segment by segment. Ops and the
// faults inside them are nested slices on their thread's track; yield points
// are instants there; shootdowns are instants on the sending CPU; violations
// are global instants.
//
// Timestamps are logical: every event takes the next tick (shown as one
// microsecond), so the same run writes the same bytes, and no two events of
// a track share a timestamp (which Perfetto needs to nest slices right).
//
// Perfetto treats pid 0 and tid 0 as the kernel's, so ids start at 1:
// pid = cpu + 1; tid = thread + 1 for trace threads, and
// thread_count + 1 + cpu for a CPU's running track.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmsim {

class Timeline {
 public:
  // `thread_names[t]` names trace thread t (Trace::threads order).
  Timeline(uint32_t cpu_count, std::vector<std::string> thread_names);

  // An op of `thread` starts / ends; `label` is what the slice shows (e.g.
  // "read of 8 bytes at 0x10000"), `outcome` a short text of its result.
  // op_end closes whatever is still open inside the op (a fault) first.
  void op_begin(uint32_t cpu, size_t thread, size_t op_index, const std::string& label);
  void op_end(uint32_t cpu, size_t thread, size_t op_index, const std::string& outcome);
  // `thread` reached the named yield point (docs/yield-points.md).
  void yield_point(uint32_t cpu, size_t thread, const std::string& name);
  // The simulator runs `thread` from now on: the running segment of the
  // previous thread (on whichever CPU) ends, a new one starts.
  void switch_to(uint32_t cpu, size_t thread);
  // A page fault of `thread` enters / leaves the core's fault handler;
  // `result` is e.g. "resolved", "segv", "bus".
  void fault_begin(uint32_t cpu, size_t thread, uint64_t va, bool write);
  void fault_end(uint32_t cpu, size_t thread, const std::string& result);
  // `from_cpu` asks the CPUs in `cpus` (bit i = CPU i) to invalidate `va`,
  // or their whole TLB when va is nullopt.
  void shootdown(uint32_t from_cpu, uint64_t cpus, std::optional<uint64_t> va);
  // Memory as it is after an op (docs/timeline.md): four counter tracks of
  // a "Memory" process below the CPUs. A sample equal to the last writes
  // nothing.
  struct MemorySample {
    uint64_t free_frames = 0;
    uint64_t resident_user_pages = 0;
    uint64_t swap_slots = 0;
    uint64_t compressor_bytes = 0;
    bool operator==(const MemorySample&) const = default;
  };
  void memory(const MemorySample& sample);
  // A violation of the run; `thread` and `op` when it is about one op.
  void violation(const std::string& kind, const std::string& message, std::optional<size_t> thread,
                 long op);

  // The whole file. Slices still open (a run cut short) are closed at the
  // end, marked "unfinished": the output always nests.
  std::string json() const;
  // Writes json() to `path`; on failure returns false and sets *error.
  bool write(const std::string& path, std::string* error) const;

 private:
  using Json = nlohmann::ordered_json;
  struct Track {
    uint32_t cpu;
    size_t tid;
    bool operator<(const Track& o) const { return cpu != o.cpu ? cpu < o.cpu : tid < o.tid; }
  };
  struct OpenSlice {
    std::string name;
    bool is_op;
  };

  Track thread_track(uint32_t cpu, size_t thread);
  Track running_track(uint32_t cpu) const { return Track{cpu, thread_names_.size() + 1 + cpu}; }
  // A new event at the next tick; `category` may be nullptr (none).
  Json event(const char* phase, const std::string& name, const char* category, Track track);
  void begin(Track track, const std::string& name, const char* category, bool is_op, Json args);
  void end(Track track, Json args);
  std::string track_name(Track track) const;

  uint32_t cpu_count_;
  std::vector<std::string> thread_names_;
  uint64_t tick_ = 0;
  std::vector<Json> events_;
  // Invariant: a track's open slices, innermost last; every B event pushed
  // here, every E event popped.
  std::map<Track, std::vector<OpenSlice>> open_;
  std::set<Track> used_;                     // tracks with any event: they get names
  std::optional<Track> running_;             // the running segment, if one is open
  std::map<size_t, uint32_t> cpu_of_;        // thread -> CPU it last appeared on
  std::optional<MemorySample> last_memory_;  // the last sample written
};

}  // namespace vmsim
