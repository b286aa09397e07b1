// The scheduler loop and the threads' lives: who may run, running a
// segment, stopping at yield points and blocks, and a deadlock's text.
#include "replay/replay.hpp"

#include <new>

namespace replay {

using namespace image;

Replay::Replay(const ImageReader& trace, vm::Kernel& kernel, Machine& machine, ResultSink& results,
               const Options& options)
    : trace_(trace),
      kernel_(kernel),
      machine_(machine),
      results_(results),
      options_(options),
      label_waits_(options.searching || trace.header().policy == ImagePolicy::kRandom),
      threads_(allocate_array<ThreadState>(trace.count(kThreads))),
      thread_count_(trace.count(kThreads)),
      enabled_(allocate_array<size_t>(trace.count(kThreads))),
      labels_(allocate_array<u64>(trace.count(kLabels))),
      label_bound_(allocate_array<bool>(trace.count(kLabels))),
      exclusive_(allocate_array<long>(trace.count(kProcesses))),
      cpu_root_(allocate_array<u64>(trace.header().machine.cpus)),
      schedule_(trace, allocate_array<Step>(trace.count(kSteps)), *this),
      chooser_(&schedule_),
      log_(*this) {
  for (u64 p = 0; p < trace.count(kProcesses); ++p) exclusive_[p] = kNoThread;
  for (size_t i = 0; i < thread_count_; ++i) {
    ThreadState& t = threads_[i];
    t.spec = &trace_.thread(i);
    t.index = static_cast<u32>(i);
    t.done = t.spec->op_count == 0;
  }
}

void Replay::observe(Observer& o) {
  if (observer_count_ < kMaxObservers) observers_[observer_count_++] = &o;
}

// The scheduler loop: ask who runs, run that thread to its next scheduling
// point, write the segment down.
void Replay::run_threads() {
  SchedulePoint sp;
  sp.enabled = enabled_;
  for (;;) {
    reap_killed();
    size_t next = choice_;
    if (has_choice_) {
      has_choice_ = false;
    } else if (!choose(sp, &next)) {
      return;
    }
    log_.chosen(next);
    ThreadState& t = threads_[next];
    run_segment(t);
    if (!t.decided) {
      chooser_->segment_done(next);
      log_.segment(next, t.stop, t.stop_point);
    }
    t.decided = false;
    if (aborted_ || failed_) return;
    sp.current = static_cast<long>(next);
    sp.kind = t.stop;
    sp.point = t.stop_point;
  }
}

// Asks the chooser at `sp` (its enabled set filled here); false when the run
// is over: every thread finished, a deadlock, or a choice the run cannot take.
bool Replay::choose(SchedulePoint& sp, size_t* next) {
  sp.enabled = enabled_;
  sp.enabled_count = collect_enabled();
  if (sp.enabled_count == 0) {
    report_deadlock();
    return false;
  }
  *next = chooser_->choose(sp);
  if (chooser_ == &schedule_ && schedule_.failed()) {
    refuse_step(schedule_.error());
    return false;
  }
  if (!sp.is_enabled(*next)) {
    internal_error("the scheduler chose a thread that cannot run");
    return false;
  }
  return true;
}

// On the thread, at a yield point or an op end: the segment ends here and
// the chooser is asked as the loop would ask it. True when it picks this
// thread again: then it goes on with no switch at all. Otherwise the choice
// waits for the loop (or the run is over), and the thread stops.
bool Replay::goes_on(ThreadState& t) {
  if (!options_.decide_on_thread || aborted_ || failed_) return false;
  // Threads of an exited process are reaped by running them: only the loop can.
  for (size_t i = 0; i < thread_count_; ++i) {
    const ThreadState& o = threads_[i];
    if (o.killed && !o.done && !o.in_op && o.started) return false;
  }
  chooser_->segment_done(t.index);
  log_.segment(t.index, t.stop, t.stop_point);
  t.decided = true;
  SchedulePoint sp;
  sp.kind = t.stop;
  sp.current = static_cast<long>(t.index);
  sp.point = t.stop_point;
  size_t next = 0;
  if (!choose(sp, &next)) return false;
  if (next != t.index) {
    has_choice_ = true;
    choice_ = next;
    return false;
  }
  log_.chosen(next);
  t.decided = false;
  return true;
}

size_t Replay::collect_enabled() {
  size_t n = 0;
  for (size_t i = 0; i < thread_count_; ++i) {
    const ThreadState& t = threads_[i];
    if (t.done || t.waiting_fork || t.blocked_on != nullptr) continue;
    if (t.killed && !t.in_op) continue;
    if (waits_for_label(t)) continue;
    enabled_[n++] = i;
  }
  return n;
}

// Under an explorer or the random policy, an op naming a label no mmap has
// bound yet waits until one does: orders in which it would run first are not
// the trace's meaning (docs/explore.md). A schedule of steps or round robin
// that runs it first is an input error.
bool Replay::waits_for_label(const ThreadState& t) const {
  if (!label_waits_ || t.in_op || t.next_op >= t.spec->op_count) return false;
  const ImageOp& op = trace_.thread_op(t.index, t.next_op);
  return op.addr_label != kNone && !label_bound_[op.addr_label];
}

void Replay::run_segment(ThreadState& t) {
  for (size_t i = 0; i < observer_count_; ++i) observers_[i]->segment_begin(t.index);
  running_ = &t;
  ++segments_;
  t.started = true;
  segment_failed_ = kernel_.vm.pages.stats().failed;
  machine_.resume(t.index);
  t.allocation_failures += kernel_.vm.pages.stats().failed - segment_failed_;
  running_ = nullptr;
}

// Threads whose process exited between their ops end without running again
// (one never started has nothing to unwind).
void Replay::reap_killed() {
  for (size_t i = 0; i < thread_count_; ++i) {
    ThreadState& t = threads_[i];
    if (!t.killed || t.done || t.in_op) continue;
    if (t.started) run_segment(t);
    t.done = true;
  }
}

void Replay::thread_main(size_t index) {
  ThreadState& t = threads_[index];
  const u64 n = t.spec->op_count;
  while (t.next_op < n && !t.killed) {
    t.in_op = true;
    const bool ok = run_one(t);
    release_exclusive(t);
    t.in_op = false;
    ++t.next_op;
    wake(&t);  // an exec or exit may wait for this thread to leave the kernel
    if (!ok) {
      aborted_ = true;
      break;
    }
    if (t.next_op < n && !t.killed) suspend(t, PointKind::kOpEnd, YieldPoint::kCount);
  }
  t.done = true;
  t.stop = PointKind::kDone;
  t.stop_point = YieldPoint::kCount;
}

void Replay::thread_panicked(size_t index, const char* message) {
  ThreadState& t = threads_[index];
  aborted_ = true;
  Text m;
  m << "core panic: " << message;
  add_violation("panic", m.c_str(), static_cast<long>(index), static_cast<long>(t.next_op));
  t.done = true;
  t.stop = PointKind::kDone;
  t.stop_point = YieldPoint::kCount;
}

void Replay::suspend(ThreadState& t, PointKind why, YieldPoint point) {
  t.stop = why;
  t.stop_point = point;
  if ((why == PointKind::kYield || why == PointKind::kOpEnd) && goes_on(t)) return;
  machine_.suspend(t.index);
}

void Replay::yield_point(YieldPoint point) {
  ThreadState& t = *running_;
  for (size_t i = 0; i < observer_count_; ++i) observers_[i]->yield_point(t.index, point);
  suspend(t, PointKind::kYield, point);
}

void Replay::block(const void* channel, const char* what, const vm::Mutex* lock) {
  ThreadState& t = *running_;
  t.blocked_on = channel;
  t.blocked_what = what;
  t.blocked_lock = lock;
  suspend(t, PointKind::kBlocked, YieldPoint::kCount);
}

void Replay::wake(const void* channel) {
  for (size_t i = 0; i < thread_count_; ++i)
    if (threads_[i].blocked_on == channel) threads_[i].blocked_on = nullptr;
}

void Replay::why_not_runnable(const ThreadState& t, Text& m) const {
  const char* process = process_name(t.spec->process);
  if (t.done || (t.killed && !t.in_op)) {
    if (t.killed) {
      m << "cannot run: its process \"" << process << "\" has exited";
    } else {
      m << "has finished all its ops";
    }
  } else if (t.waiting_fork) {
    m << "cannot run yet: the fork that creates its process \"" << process << "\" has not run";
  } else if (t.blocked_on != nullptr) {
    m << "is blocked on " << t.blocked_what;
  } else {
    m << "cannot run";
  }
}

// A step the trace cannot take: an input error at the step (spec §4).
void Replay::refuse_step(const StepError& e) {
  const ImageStep& s = trace_.step(e.step);
  const char* point = s.kind == ImageStepKind::kUntil ? trace_.str(s.point) : "";
  Text m;
  m << "thread \"" << trace_.str(trace_.thread(e.thread).name) << "\" ";
  switch (e.kind) {
    case StepErrorKind::kNotRunnable:
      why_not_runnable(threads_[e.thread], m);
      break;
    case StepErrorKind::kTooFewOps:
      m << "has " << e.ops_left << " ops left, the step asks for " << s.ops;
      break;
    case StepErrorKind::kUntilBlocked:
      m << "blocked before reaching " << point;
      break;
    case StepErrorKind::kUntilFinished:
      m << "finished its ops before reaching " << point;
      break;
    case StepErrorKind::kUntilOpEnded:
      m << "ended its op without reaching " << point;
      if (e.hits != 0) m << " " << s.count << " times (reached it " << e.hits << ")";
      break;
    default:
      m << "cannot take this step";
  }
  InputPlace where;
  where.kind = InputPlace::Kind::kStep;
  where.step = e.step;
  input_error(where, m.c_str());
}

// No thread can run but some have not finished: name who waits for what.
void Replay::report_deadlock() {
  vm::FixedString<4096> msg;
  for (size_t i = 0; i < thread_count_; ++i) {
    const ThreadState& t = threads_[i];
    if (t.done || (t.killed && !t.in_op)) continue;
    if (waits_for_label(t)) {
      const ImageOp& op = trace_.thread_op(t.index, t.next_op);
      Text m;
      m << "label @" << label_of(op) << " is never bound by any mmap";
      input_error(InputPlace::op_of(t.index, t.next_op), m.c_str());
      return;
    }
    if (msg.size() != 0) msg << "; ";
    msg << "thread \"" << trace_.str(t.spec->name) << "\" ";
    if (t.waiting_fork) {
      msg << "waits for its process \"" << process_name(t.spec->process)
          << "\", and no fork left to run creates it";
    } else if (t.blocked_lock != nullptr && t.blocked_on == t.blocked_lock) {
      const u32 owner = t.blocked_lock->owner;
      msg << "waits for lock \"" << t.blocked_what << "\"";
      if (owner != vm::Mutex::kUnowned && owner <= thread_count_)
        msg << " held by thread \"" << trace_.str(threads_[owner - 1].spec->name) << "\"";
    } else {
      msg << "waits for " << (t.blocked_what != nullptr ? t.blocked_what : "?");
    }
  }
  if (msg.size() == 0) return;  // every thread finished: the run is over
  aborted_ = true;
  add_violation("deadlock", msg.c_str(), -1, -1);
}

void Replay::input_error(const InputPlace& where, const char* message) {
  if (failed_) return;
  failed_ = aborted_ = true;
  results_.input_error(where, message);
}

void Replay::internal_error(const char* message) {
  if (failed_) return;
  failed_ = aborted_ = true;
  results_.internal_error(message);
}

void Replay::add_violation(const char* kind, const char* message, long thread, long op) {
  if (violation_count_ < kMaxKinds) violation_kinds_[violation_count_] = kind;
  ++violation_count_;
  Violation v;
  v.kind = kind;
  v.message = message;
  v.thread = thread;
  v.op = op;
  v.step = static_cast<long>(log_.steps_taken());
  results_.violation(v);
}

const char* Replay::label_of(const ImageOp& op) const {
  return op.addr_label == kNone ? nullptr : trace_.str(trace_.label(op.addr_label).name);
}

}  // namespace replay
