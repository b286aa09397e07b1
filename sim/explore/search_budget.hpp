// The limits of one search: runs and wall-clock time. The only place the
// explorer looks at a clock; what a search finds never depends on it, only
// where a cut search stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vmsim::explore {

class SearchBudget {
 public:
  SearchBudget(uint64_t max_runs, double time_limit_seconds)
      : max_runs_(max_runs),
        time_limit_(time_limit_seconds),
        start_(std::chrono::steady_clock::now()) {}

  // Empty while another run may start, else why not ("max-runs", "time-limit").
  std::string exhausted(uint64_t runs_so_far) const {
    if (max_runs_ != 0 && runs_so_far >= max_runs_) return "max-runs";
    if (time_limit_ > 0 && elapsed() >= time_limit_) return "time-limit";
    return "";
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  uint64_t max_runs_;
  double time_limit_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace vmsim::explore
