#include "run/op_scheduler.hpp"

namespace vmsim {

long thread_index(const Trace& trace, const std::string& name) {
  for (size_t i = 0; i < trace.threads.size(); ++i)
    if (trace.threads[i].name == name) return static_cast<long>(i);
  return -1;
}

OpScheduler::OpScheduler(const Trace& trace)
    : trace_(trace), next_op_(trace.threads.size(), 0), waiting_(trace.threads.size(), false) {}

void OpScheduler::end(size_t thread) {
  next_op_[thread] = trace_.threads[thread].ops.size();
  if (step_active_ && step_thread_ == thread) step_left_ = 0;
}

std::optional<size_t> OpScheduler::stuck_thread() const {
  for (size_t t = 0; t < next_op_.size(); ++t)
    if (!finished(t) && waiting_[t]) return t;
  return std::nullopt;
}

size_t OpScheduler::record(size_t t) {
  ++next_op_[t];
  if (!taken_.empty() && taken_.back().thread == trace_.threads[t].name) {
    ++taken_.back().ops;
  } else {
    taken_.push_back(TakenStep{TakenStep::Kind::kOps, trace_.threads[t].name, 1, {}, 1});
  }
  return t;
}

std::optional<size_t> OpScheduler::from_steps(std::string* error) {
  const auto& steps = trace_.schedule.steps;
  while (!step_active_ || step_left_ == 0) {
    step_active_ = false;
    if (step_ >= steps.size()) return std::nullopt;
    const ScheduleStep& s = steps[step_];
    failed_step_ = step_;
    const long t = thread_index(trace_, s.thread);
    if (t < 0 || finished(static_cast<size_t>(t))) {
      *error = "thread \"" + s.thread + "\" has finished all its ops";
      return std::nullopt;
    }
    if (waiting_[static_cast<size_t>(t)]) {
      *error = "thread \"" + s.thread + "\" cannot run yet: the fork that creates its process \"" +
               trace_.threads[static_cast<size_t>(t)].process + "\" has not run";
      return std::nullopt;
    }
    step_thread_ = static_cast<size_t>(t);
    if (s.kind == ScheduleStep::Kind::kOps) {
      if (s.ops > remaining(step_thread_)) {
        *error = "thread \"" + s.thread + "\" has " + std::to_string(remaining(step_thread_)) +
                 " ops left, the step asks for " + std::to_string(s.ops);
        return std::nullopt;
      }
      step_left_ = s.ops;
    } else {
      step_left_ = remaining(step_thread_);
    }
    step_active_ = true;
    ++step_;
  }
  --step_left_;
  return record(step_thread_);
}

// Round robin: one op per thread, in declaration order, skipping threads
// that finished or wait for their process. Sequential: the first runnable
// thread runs to its end.
std::optional<size_t> OpScheduler::from_policy() {
  const size_t n = trace_.threads.size();
  if (trace_.schedule.policy == Policy::kSequential) {
    for (size_t t = 0; t < n; ++t)
      if (runnable(t)) return record(t);
    return std::nullopt;
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t t = (rr_next_ + i) % n;
    if (!runnable(t)) continue;
    rr_next_ = (t + 1) % n;
    return record(t);
  }
  return std::nullopt;
}

std::optional<size_t> OpScheduler::next(std::string* error) {
  if (step_ < trace_.schedule.steps.size() || (step_active_ && step_left_ > 0)) {
    std::optional<size_t> t = from_steps(error);
    if (t || !error->empty()) return t;
  }
  step_active_ = false;
  return from_policy();
}

}  // namespace vmsim
