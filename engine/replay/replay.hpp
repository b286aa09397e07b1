// The replay engine: one trace run on the VM core, the same loop on every
// machine (docs/layout.md). Every trace thread runs its ops on its own
// context (Machine::resume); at every yield point, op end and block the
// scheduler loop asks the Chooser (the trace's schedule, or an explorer) who
// runs next. Ops go to the kernel's system calls (core/sys/syscalls) or, for
// accesses, to the machine's CPU with the fault handler answering each #PF.
// The engine checks the trace's own assertions, exec/exit waits, deadlocks,
// the audit, the leak check, the statistics and the expectations; machines
// attach observers for anything more.
//
// Threads run one at a time: nothing here is touched by two CPUs at once
// (the port runs a thread on another CPU only while the loop waits for it).
#pragma once

#include "image/trace_image_reader.hpp"
#include "replay/chooser.hpp"
#include "replay/core_threads.hpp"
#include "replay/op_outcome.hpp"
#include "replay/replay_machine.hpp"
#include "replay/replay_observer.hpp"
#include "replay/replay_result.hpp"
#include "replay/run_stats.hpp"
#include "replay/trace_schedule.hpp"
#include "sched/schedule_log.hpp"
#include "sys/kernel.hpp"

namespace replay {

enum class AuditMode : vm::u8 { kOff, kEnd, kEveryOp };

struct Options {
  AuditMode audit = AuditMode::kEnd;
  // An explorer steers the run: an op naming a label no mmap has bound yet
  // waits until one does (as under the random policy) rather than being an
  // input error (docs/explore.md).
  bool searching = false;
  // A thread stopped at a yield point or an op end asks the chooser itself
  // and goes on without a switch when the answer is itself (docs/layout.md,
  // "Decisions on the thread"). Off when an observer must see every
  // segment begin (the explorer's footprints, the timeline).
  bool decide_on_thread = true;
  // Slab sanity (vm/slab_sanity.hpp): slab objects read-only outside
  // USE(); a write without it is an `invariant` violation.
  bool slab_sanity = false;
};

// One trace thread: where it is in its ops and why it cannot run.
struct ThreadState {
  const image::ImageThread* spec = nullptr;
  vm::Process* process = nullptr;  // nullptr until its fork ran, and after exit
  u32 index = 0;
  u64 next_op = 0;     // the op it runs next, or is stopped inside
  bool in_op = false;  // stopped inside an op (at a yield point or blocked)
  bool waiting_fork = false;
  bool killed = false;             // its process exited: no new op starts
  bool started = false;            // resumed at least once
  bool done = false;               // its body has ended (or will never start)
  bool waiting_exclusive = false;  // in exec/exit, waiting for another one of its process
  // Blocked: the channel it sleeps on (nullptr: runnable), what it waits
  // for, and the lock when it is one.
  const void* blocked_on = nullptr;
  const char* blocked_what = nullptr;
  const vm::Mutex* blocked_lock = nullptr;
  PointKind stop = PointKind::kStart;  // how its last segment ended
  YieldPoint stop_point = YieldPoint::kCount;
  // Its last segment was logged and the next choice made on the thread
  // (decide_on_thread), not in the scheduler loop.
  bool decided = false;
  // Page allocations refused while it ran, over its finished segments
  // (Replay::allocation_failures adds the running one's).
  u64 allocation_failures = 0;
};

class Replay final : public CoreThreads, private ThreadProgress, private StepSink {
 public:
  static constexpr size_t kMaxObservers = 8;

  Replay(const image::ImageReader& trace, vm::Kernel& kernel, Machine& machine, ResultSink& results,
         const Options& options);
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  void observe(Observer& o);
  // `c` picks who runs instead of the trace's schedule.
  void steer(Chooser& c) { chooser_ = &c; }

  // The run, phase by phase: boot(), and when it succeeds run_threads() and
  // finish(); then always conclude(). A core panic may cut boot() or
  // finish() short: the machine catches it and calls panicked(). On a trace
  // thread the machine calls thread_main(), and thread_panicked() instead
  // when a panic ended it.
  bool boot();
  void run_threads();
  void finish();
  void panicked(const char* message);
  void conclude();
  void thread_main(size_t thread);
  void thread_panicked(size_t thread, const char* message);

  // CoreThreads
  bool on_thread() const override { return running_ != nullptr; }
  void yield_point(YieldPoint point) override;
  void block(const void* channel, const char* what, const vm::Mutex* lock) override;
  void wake(const void* channel) override;

  // For observers and the machine.
  void add_violation(const char* kind, const char* message, long thread, long op);
  void abort() { aborted_ = true; }
  bool aborted() const { return aborted_; }
  const image::ImageReader& trace() const { return trace_; }
  vm::Kernel& kernel() { return kernel_; }
  const ThreadState& thread(size_t i) const { return threads_[i]; }
  size_t thread_count() const { return thread_count_; }
  long running() const { return running_ != nullptr ? static_cast<long>(running_->index) : -1; }
  // Segments run so far: another thread ran in between if it moved.
  u64 segments() const { return segments_; }
  // The name of op.addr_label, nullptr when it has none.
  const char* label_of(const image::ImageOp& op) const;

  // The results.
  bool pass() const { return violation_count_ == 0; }
  // An input or internal error stopped the run: it has no result.
  bool failed() const { return failed_; }
  const char* digest() const { return has_digest_ ? digest_ : nullptr; }
  bool has_stats() const { return has_stats_; }
  u64 stat(size_t i) const { return stats_[i]; }
  bool has_expectations() const;
  bool expectations_met() const { return unmet_count_ == 0; }

 private:
  // ThreadProgress
  u64 ops_left(size_t thread) const override {
    return threads_[thread].spec->op_count - threads_[thread].next_op;
  }
  // StepSink
  void taken(const LoggedStep& step) override { results_.step_taken(step); }

  bool boot_devices();  // replay_checks.cpp

  // The loop (replay.cpp).
  size_t collect_enabled();
  bool waits_for_label(const ThreadState& t) const;
  void run_segment(ThreadState& t);
  void reap_killed();
  void suspend(ThreadState& t, PointKind why, YieldPoint point);
  bool choose(SchedulePoint& sp, size_t* next);
  bool goes_on(ThreadState& t);
  void refuse_step(const StepError& e);
  void why_not_runnable(const ThreadState& t, Text& m) const;
  void report_deadlock();
  void input_error(const InputPlace& where, const char* message);
  void internal_error(const char* message);

  // Ops (dispatch.cpp).
  bool run_one(ThreadState& t);
  bool resolve(const ThreadState& t, const image::ImageOp& op, u64* addr);
  Outcome dispatch(ThreadState& t, const image::ImageOp& op, u64 addr);
  Outcome exit_process(ThreadState& t);
  Outcome exec(ThreadState& t, const image::ImageOp& op);
  void wait_for_siblings(ThreadState& t);
  void release_exclusive(ThreadState& t);
  void start_threads_of(u32 process, vm::Process* p);
  void never_start_threads_of(u32 process);
  void end_process(u32 process, bool oom = false);
  // Out of memory (spec §8).
  u64 allocation_failures(const ThreadState& t) const;
  bool ran_out_of_memory(const ThreadState& t, const image::ImageOp& op, const Outcome& out,
                         u64 failed_before) const;
  void report_out_of_memory(ThreadState& t, const image::ImageOp& op, const Outcome& out);
  Outcome oom_kill(ThreadState& t, const Outcome& why);
  const char* process_name(u32 process) const { return trace_.str(trace_.process(process).name); }
  const char* file_name(u32 file) const { return trace_.str(trace_.file(file).name); }

  // User accesses (user_access.cpp).
  Outcome user_access(ThreadState& t, const UserAccess& access);
  // A context switch: the CPU's page-table root and the map's set of active
  // CPUs (m). Outside the lock analysis: the engine switches threads only
  // where they stop, one at a time, and could not take the map lock here (the
  // thread switched from may hold it across a yield point).
  void activate(unsigned cpu, vm::AddressSpace& as) NO_THREAD_SAFETY_ANALYSIS;

  // The checks (replay_checks.cpp).
  bool audit_now(long thread, long op);
  bool slab_writes_used(long thread, long op);
  // Reads every map's page-table count (m) between ops, without the map
  // locks, for the reason activate gives.
  void note_peaks() NO_THREAD_SAFETY_ANALYSIS;
  void check_leaks();
  void collect_stats();
  void check_expectations();
  void unmet(const Text& message) {
    ++unmet_count_;
    results_.unmet(message.c_str());
  }

  template <typename T>
  T* allocate_array(size_t n) {
    T* p = static_cast<T*>(machine_.allocate((n + 1) * sizeof(T)));
    for (size_t i = 0; i <= n; ++i) new (&p[i]) T();
    return p;
  }

  const image::ImageReader& trace_;
  vm::Kernel& kernel_;
  Machine& machine_;
  ResultSink& results_;
  const Options options_;
  bool label_waits_;  // see waits_for_label()

  ThreadState* threads_;
  size_t thread_count_;
  size_t* enabled_;    // the enabled set collect_enabled() fills, ascending
  u64* labels_;        // by label index: the start the core's mmap bound it to
  bool* label_bound_;  // by label index
  long* exclusive_;    // by process index: the thread whose exec or exit runs (-1: none)
  u64* cpu_root_;      // by trace CPU: the root it runs (0: none yet)
  TraceSchedule schedule_;
  Chooser* chooser_;
  ScheduleLog log_;
  // A choice made on a thread for the loop to take (decide_on_thread).
  bool has_choice_ = false;
  size_t choice_ = 0;
  Observer* observers_[kMaxObservers] = {};
  size_t observer_count_ = 0;

  // Whose context runs now; nullptr in the scheduler loop.
  ThreadState* running_ = nullptr;
  u64 segment_failed_ = 0;  // the allocator's refusals when the running segment began
  u64 segments_ = 0;
  bool aborted_ = false;                  // a violation ended the run early
  bool failed_ = false;                   // an input or internal error did
  bool slab_violation_reported_ = false;  // slab sanity reports its first write once
  bool first_op_seen_ = false;

  // Violations: their kinds, for expectations (a run stops at its first,
  // so a few are all the final checks can add).
  static constexpr unsigned kMaxKinds = 16;
  const char* violation_kinds_[kMaxKinds] = {};
  unsigned violation_count_ = 0;
  unsigned unmet_count_ = 0;
  char digest_[65] = {};
  bool has_digest_ = false;
  bool has_stats_ = false;
  u64 stats_[kRunStatCount] = {};
  u64 ops_ = 0, accesses_ = 0, segv_ = 0, bus_ = 0;
  u64 page_table_pages_peak_ = 0;
};

}  // namespace replay
