// Steers one run of the bounded search: replays a forced prefix of choices,
// then goes on without preempting (the current thread runs on; at an op end
// or block the lowest awake thread), recording every new scheduling point
// as a ChoiceNode for the search to branch from.
#pragma once

#include <string>
#include <vector>

#include "explore/choice_node.hpp"
#include "explore/happens_before.hpp"
#include "run/schedule_control.hpp"

namespace vmsim::explore {

class BoundedController : public ScheduleController {
 public:
  // `sleep` holds at the last forced point, before its choice runs. With
  // `log_segments`, every segment of the run (forced ones too) is kept for
  // DPOR's race analysis.
  BoundedController(std::vector<size_t> prefix, SleepSet sleep, bool por,
                    bool log_segments = false);

  size_t choose(const SchedulingPoint& sp) override;
  void segment_done(size_t thread, const Footprint& footprint) override;

  // Points past the prefix, in order.
  std::vector<ChoiceNode>& nodes() { return nodes_; }
  // What the last forced choice ran (its first segment).
  const Footprint& forced_footprint() const { return forced_footprint_; }
  // With log_segments: segment i is what the choice at point i ran.
  std::vector<Segment>& segments() { return segments_; }
  // Non-empty when the run did not follow the prefix (vmsim is not
  // deterministic, an internal error).
  const std::string& divergence() const { return divergence_; }

 private:
  size_t choose_forced(const SchedulingPoint& sp);
  size_t choose_new(const SchedulingPoint& sp);

  std::vector<size_t> prefix_;
  SleepSet sleep_;  // current sleep set (past the prefix)
  bool por_;
  bool log_segments_;
  size_t point_ = 0;  // scheduling points seen
  // Which segment the next segment_done() belongs to.
  enum class Pending { kNone, kForcedLast, kNode } pending_ = Pending::kNone;
  bool covered_ = false;  // went through a sleeping thread
  std::vector<ChoiceNode> nodes_;
  Footprint forced_footprint_;
  std::vector<Segment> segments_;
  std::string divergence_;
};

}  // namespace vmsim::explore
