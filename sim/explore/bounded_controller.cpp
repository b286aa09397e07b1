#include "explore/bounded_controller.hpp"

#include <algorithm>
#include <optional>

namespace vmsim::explore {

BoundedController::BoundedController(std::vector<size_t> prefix, SleepSet sleep, bool por,
                                     bool log_segments)
    : prefix_(std::move(prefix)),
      sleep_(por ? std::move(sleep) : SleepSet{}),
      por_(por),
      log_segments_(log_segments) {}

size_t BoundedController::choose(const SchedulingPoint& sp) {
  const size_t i = point_++;
  return i < prefix_.size() ? choose_forced(sp) : choose_new(sp);
}

size_t BoundedController::choose_forced(const SchedulingPoint& sp) {
  const size_t i = point_ - 1;
  size_t t = prefix_[i];
  if (!std::binary_search(sp.enabled.begin(), sp.enabled.end(), t)) {
    if (divergence_.empty())
      divergence_ = "replaying a schedule prefix: thread " + std::to_string(t) +
                    " is not runnable at scheduling point " + std::to_string(i);
    t = sp.enabled.front();
  }
  pending_ = i + 1 == prefix_.size() ? Pending::kForcedLast : Pending::kNone;
  return t;
}

size_t BoundedController::choose_new(const SchedulingPoint& sp) {
  ChoiceNode node;
  node.enabled = sp.enabled;
  node.current = sp.current;
  const bool current_enabled =
      sp.current >= 0 &&
      std::binary_search(sp.enabled.begin(), sp.enabled.end(), static_cast<size_t>(sp.current));
  node.preemptible = sp.preemptible && current_enabled;
  node.sleep = sleep_;
  node.covered = covered_;
  // The first free, awake choice: the current thread goes on if it can.
  auto usable = [&](size_t t) { return !asleep(sleep_, t) && node.free_choice(t); };
  std::optional<size_t> pick;
  if (current_enabled && usable(static_cast<size_t>(sp.current))) {
    pick = static_cast<size_t>(sp.current);
  } else {
    for (size_t t : sp.enabled)
      if (usable(t)) {
        pick = t;
        break;
      }
  }
  if (!pick) {
    // Every free choice sleeps: whatever runs now repeats an explored run.
    pick = current_enabled ? static_cast<size_t>(sp.current) : sp.enabled.front();
    covered_ = true;
  }
  node.chosen = *pick;
  nodes_.push_back(std::move(node));
  pending_ = Pending::kNode;
  return *pick;
}

void BoundedController::segment_done(size_t thread, const Footprint& footprint) {
  if (log_segments_ && segments_.size() < point_) segments_.push_back({thread, footprint});
  if (pending_ == Pending::kForcedLast) forced_footprint_ = footprint;
  if (pending_ == Pending::kNode) {
    ChoiceNode& node = nodes_.back();
    if (node.chosen == thread) node.done.push_back({thread, footprint});
  }
  pending_ = Pending::kNone;
  if (por_ && point_ >= prefix_.size()) wake_dependent(sleep_, footprint);
}

}  // namespace vmsim::explore
