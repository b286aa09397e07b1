// PCT (probabilistic concurrency testing): every thread gets a random
// priority, the highest-priority runnable thread runs, and at depth-1 random
// scheduling points the running thread drops below all others. A bug that
// needs d ordering constraints shows up in one run with probability at
// least 1/(n * k^(d-1)) for n threads and k scheduling points.
#pragma once

#include <cstdint>
#include <vector>

#include "run/schedule_control.hpp"

namespace vmsim::explore {

class PctController : public ScheduleController {
 public:
  // `points`: how many scheduling points a run has (an estimate); the
  // change points are drawn from [1, points].
  PctController(uint64_t seed, size_t threads, size_t depth, size_t points);

  size_t choose(const SchedulingPoint& sp) override;
  // Scheduling points this run had.
  size_t points_seen() const { return seen_; }

 private:
  std::vector<uint64_t> priority_;     // per thread; higher runs first
  std::vector<size_t> change_points_;  // ascending; the i-th lowers to depth-1-i
  size_t seen_ = 0;
};

// A small deterministic generator (splitmix64) so that a seed means the
// same run on every machine and standard library.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

}  // namespace vmsim::explore
