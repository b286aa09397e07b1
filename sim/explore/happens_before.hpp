// The happens-before order of one run's segments (Mazurkiewicz): segment i
// happens before segment j (i < j) when a chain of dependent segments, or
// of one thread's segments, leads from i to j. Dependence is
// Footprint::conflicts. DPOR reverses the races this order shows; its
// Foata normal form names the run's equivalence class (docs/explore.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "run/schedule_control.hpp"

namespace vmsim::explore {

// What the choice at one scheduling point ran.
struct Segment {
  size_t thread = 0;
  Footprint footprint;
};

// A race: i and j are dependent segments of different threads and i happens
// before j only directly (no segment between them orders them), so running
// j's thread first at point i gives a run of another class.
struct Race {
  size_t i = 0, j = 0;
};

class HappensBefore {
 public:
  // Vector clocks of every segment; the races whose later segment j lies in
  // [races_from, races_to) are kept.
  HappensBefore(const std::vector<Segment>& segments, size_t races_from, size_t races_to);

  bool before(size_t i, size_t j) const { return i < j && seq_[i] < clock(j)[segments_[i].thread]; }
  const std::vector<Race>& races() const { return races_; }
  // The threads whose segment could run first in `notdep(i).j`: the segments
  // after i not ordered after it, then j, each thread's first one that no
  // other segment of that sequence happens before (Abdulla et al.'s
  // initials, the source set of the race's reversal).
  std::vector<size_t> initials(const Race& race) const;
  // A hash of the run's Foata normal form: equal for two runs exactly when
  // they are one Mazurkiewicz trace (the schedule determines the run).
  uint64_t class_hash() const;

 private:
  const std::vector<Segment>& segments_;
  size_t threads_ = 0;
  std::vector<uint32_t> seq_;  // segment's index among its thread's
  // Row j, column t: t's segments before or at j (one block: a run's
  // hundreds of segments cost one allocation, not one each).
  std::vector<uint32_t> clock_;
  uint32_t* clock(size_t j) { return clock_.data() + j * threads_; }
  const uint32_t* clock(size_t j) const { return clock_.data() + j * threads_; }
  std::vector<uint32_t> foata_;  // Foata level (1 + deepest predecessor)
  std::vector<Race> races_;
};

}  // namespace vmsim::explore
