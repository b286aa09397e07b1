#include "explore/pct_controller.hpp"

#include <algorithm>

namespace vmsim::explore {

uint64_t SplitMix::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

PctController::PctController(uint64_t seed, size_t threads, size_t depth, size_t points) {
  SplitMix rng(seed);
  const size_t changes = depth > 0 ? depth - 1 : 0;
  // Initial priorities changes+1 .. changes+threads, in random order
  // (Fisher-Yates); the change points lower a thread to 1 .. changes.
  priority_.resize(threads);
  for (size_t t = 0; t < threads; ++t) priority_[t] = changes + 1 + t;
  for (size_t t = threads; t > 1; --t) std::swap(priority_[t - 1], priority_[rng.below(t)]);
  for (size_t i = 0; i < changes; ++i)
    change_points_.push_back(1 + rng.below(std::max<size_t>(points, 1)));
  std::sort(change_points_.begin(), change_points_.end());
}

size_t PctController::choose(const SchedulingPoint& sp) {
  const size_t step = ++seen_;
  for (size_t i = 0; i < change_points_.size(); ++i) {
    if (change_points_[i] == step && sp.current >= 0 &&
        static_cast<size_t>(sp.current) < priority_.size())
      priority_[sp.current] = change_points_.size() - i;
  }
  size_t best = sp.enabled.front();
  for (size_t t : sp.enabled)
    if (t < priority_.size() && priority_[t] > priority_[best]) best = t;
  return best;
}

}  // namespace vmsim::explore
