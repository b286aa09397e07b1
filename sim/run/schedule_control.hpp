// How an explorer steers a run. Instead of the trace's schedule, the replay
// engine asks a ScheduleController (through run/explorer_steering) at every
// scheduling point which thread runs next, and tells it what each thread touched since it last ran,
// so that the explorer can tell which choices commute (docs/explore.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sched/schedule_point.hpp"

namespace vmsim {

// What a segment of one thread (from one scheduling point to the next)
// touched. Two segments of different threads are dependent, and their order
// matters, when they share a resource that at least one of them writes.
// Resources are opaque ids (a core lock, an address space, a file, ...);
// docs/explore.md lists which.
struct Footprint {
  std::vector<uint64_t> reads;   // sorted, unique
  std::vector<uint64_t> writes;  // sorted, unique

  void read(uint64_t r) { insert(reads, r); }
  void write(uint64_t r) { insert(writes, r); }
  bool empty() const { return reads.empty() && writes.empty(); }

  bool conflicts(const Footprint& o) const {
    return intersects(writes, o.writes) || intersects(writes, o.reads) ||
           intersects(reads, o.writes);
  }

 private:
  static void insert(std::vector<uint64_t>& v, uint64_t r) {
    // Ascending ids (the frames of a large page, in order) append.
    if (v.empty() || v.back() < r) {
      v.push_back(r);
      return;
    }
    auto it = std::lower_bound(v.begin(), v.end(), r);
    if (it == v.end() || *it != r) v.insert(it, r);
  }
  static bool intersects(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (a[i] == b[j]) return true;
      if (a[i] < b[j])
        ++i;
      else
        ++j;
    }
    return false;
  }
};

// Why the scheduler is being asked: the replay engine's one vocabulary
// (engine/sched/schedule_point.hpp).
using PointKind = replay::PointKind;

struct SchedulingPoint {
  size_t index = 0;   // 0, 1, 2, ... within this run
  long current = -1;  // the thread that ran the last segment; -1 at kStart
  PointKind kind = PointKind::kStart;
  const char* point = nullptr;  // the yield point's name for kYield
  // Threads that can run now, ascending. Never empty (the runner reports a
  // deadlock or ends the run instead of asking). Contains `current` when it
  // can go on.
  std::vector<size_t> enabled;
  // Choosing another thread than `current` here is a preemption: `current`
  // is stopped inside an op and could have gone on (kYield only).
  bool preemptible = false;
};

class ScheduleController {
 public:
  virtual ~ScheduleController() = default;
  // Returns one of sp.enabled.
  virtual size_t choose(const SchedulingPoint& sp) = 0;
  // The segment `thread` ran since the previous choose(); called before the
  // next choose() (and once more when the run ends).
  virtual void segment_done(size_t thread, const Footprint& footprint) {
    (void)thread;
    (void)footprint;
  }
};

}  // namespace vmsim
