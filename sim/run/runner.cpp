// The run loop. Every trace thread runs its ops in the core (over the
// emulated MMU) on its own fiber; the scheduler (the trace's schedule, or an
// explorer) picks who runs at every yield point, op end and block. Each op's
// outcome is checked against the trace's own assertions at once; the model
// comparison waits for the run's end, when the history of overlapping ops is
// checked for linearizability (spec §6). A violation the core itself shows
// (a failed assertion, a panic) ends the run.
#include "run/runner.hpp"

#include <algorithm>
#include <csetjmp>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "lib/types.hpp"
#include "machine/machine.hpp"
#include "model/model.hpp"
#include "replay/run_stats.hpp"
#include "run/error_text.hpp"
#include "run/fiber.hpp"
#include "run/linearizability.hpp"
#include "run/op_outcome.hpp"
#include "run/schedule_recorder.hpp"
#include "run/shadow_tlb.hpp"
#include "run/sim_platform.hpp"
#include "run/timeline.hpp"
#include "run/trace_scheduler.hpp"
#include "sched/yield_point_named.hpp"
#include "sys/audit.hpp"
#include "sys/kernel.hpp"
#include "sys/state_digest.hpp"
#include "sys/syscalls.hpp"
#include "sys/user_fault.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"

namespace vmsim {
namespace {

// Resource ids for partial-order reduction (Footprint): kinds in the top
// byte, a deterministic value below (never a host address).
constexpr uint64_t kResourceGlobal = 1;
constexpr uint64_t kResourceLock = uint64_t{1} << 56;
constexpr uint64_t kResourceProcess = uint64_t{2} << 56;
constexpr uint64_t kResourceFrame = uint64_t{3} << 56;
constexpr uint64_t kResourceFile = uint64_t{4} << 56;

struct ThreadState {
  const ThreadSpec* spec = nullptr;
  vm::Process* process = nullptr;  // nullptr until its fork ran, and after exit
  uint32_t index = 0;
  size_t next_op = 0;  // the op it runs next, or is stopped inside
  bool in_op = false;  // stopped inside an op (at a yield point or blocked)
  bool waiting_fork = false;
  bool killed = false;  // its process exited: no new op starts
  bool done = false;    // its fiber has ended (or will never start)
  // Blocked: the channel it sleeps on (nullptr: runnable), what it waits
  // for, and the lock when it is one.
  const void* blocked_on = nullptr;
  const char* blocked_what = nullptr;
  const vm::Mutex* blocked_lock = nullptr;
  std::unique_ptr<Fiber> fiber;
  std::jmp_buf panic_jmp;              // a core panic on this fiber returns here
  PointKind stop = PointKind::kStart;  // how its last segment ended
  const char* stop_point = nullptr;
  Footprint footprint;             // what the current segment touched
  uint64_t fault_file = 0;         // resource of the file a fault in flight works on (0: none)
  bool waiting_exclusive = false;  // in exec/exit, waiting for another one of its process
  // A touch in flight that others interleaved with, inside a fault: each
  // entry is {steps done before that fault, time the fault began, time it
  // ended}. The history then has one part of the touch per stretch.
  struct TouchSplit {
    uint64_t steps, before, after;
  };
  std::vector<TouchSplit> touch_splits;
};

// Unusable input found while running (exit 2), thrown to run_trace.
struct InputErrorAt {
  std::string message;
};

class TraceRun final : public CoreThreads, public ThreadStatus {
 public:
  TraceRun(const Trace& trace, const RunOptions& options)
      : trace_(trace),
        options_(options),
        machine_(trace.machine.memory, trace.machine.cpus),
        disk_(trace.files),
        platform_(machine_, disk_),
        kernel_(std::make_unique<vm::Kernel>(platform_)),
        shadow_(trace.machine.cpus) {
    if (!options.timeline.empty()) {
      std::vector<std::string> names;
      for (const ThreadSpec& t : trace.threads) names.push_back(t.name);
      timeline_ = std::make_unique<Timeline>(trace.machine.cpus, std::move(names));
    }
  }

  RunReport run();

  // CoreThreads
  bool on_thread() const override { return running_ != nullptr && Fiber::current() != nullptr; }
  void yield_point(vm::YieldPoint point) override;
  void block(const void* channel, const char* what, const vm::Mutex* lock) override;
  void wake(const void* channel) override;
  void lock_taken(const vm::Mutex& m) override;
  void invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) override;
  void frame_freed(uint64_t pa) override;
  // ThreadStatus
  size_t ops_left(size_t thread) const override;
  std::string why_not_runnable(size_t thread) const override;

 private:
  bool boot();
  void run_threads();
  std::vector<size_t> enabled() const;
  bool waits_for_label(const ThreadState& t) const;
  void run_segment(ThreadState& t);
  void reap_killed();
  void thread_body(ThreadState& t);
  void suspend(ThreadState& t, PointKind why, const char* point);
  bool run_one(ThreadState& t, size_t op_index);
  OpOutcome core_op(ThreadState& t, const Op& op);
  OpOutcome model_op(Model& model, const HistoryOp& h);
  void report_deadlock();
  void wait_for_siblings(ThreadState& t);
  void release_exclusive(ThreadState& t);
  void add_touch_parts(ThreadState& t, const HistoryOp& whole);
  void check_history();
  void activate(uint32_t cpu, vm::AddressSpace& as);
  bool check_shadow(ThreadState& t, vm::AddressSpace& as, const std::vector<uint64_t>& pages);
  void record_shadow(ThreadState& t, vm::AddressSpace& as, const std::vector<uint64_t>& pages,
                     bool write);
  void stale_tlb(const std::string& message);
  uint64_t lock_resource(const vm::Mutex& m) const;
  uint64_t family_resource(const ThreadState& t) const;
  // Footprints feed only an explorer's partial-order reduction: without one
  // nothing is recorded (an access loop over many pages would pay for it).
  void note_write(ThreadState& t, uint64_t resource) {
    if (options_.controller != nullptr) t.footprint.write(resource);
  }
  void note_read(ThreadState& t, uint64_t resource) {
    if (options_.controller != nullptr) t.footprint.read(resource);
  }
  static uint64_t name_hash(const std::string& name);
  OpOutcome user_access(ThreadState& t, const UserAccess& access);
  void start_threads_of(const std::string& name, vm::Process* process);
  void end_process(const std::string& name);
  uint64_t resolve(const Op& op, const AddrExpr& a);
  void finish();
  void check_leaks();
  void check_expectations();
  void collect_stats();
  void note_peaks();
  void add_violation(const char* kind, std::string message, const ThreadState* t, long op);
  bool audit_now(const ThreadState* t, long op);

  const Trace& trace_;
  const RunOptions options_;
  Machine machine_;
  SimDisk disk_;
  SimPlatform platform_;
  std::unique_ptr<vm::Kernel> kernel_;
  Model model_;          // files and first processes; the history starts from it
  Model initial_model_;  // model_ when the threads started
  std::vector<ThreadState> threads_;
  std::map<std::string, uint64_t> labels_;  // `as` label → start, from the core's mmap
  std::unique_ptr<TraceScheduler> trace_scheduler_;
  ScheduleController* controller_ = nullptr;  // the trace's scheduler or an explorer
  ScheduleRecorder recorder_;
  ThreadState* running_ = nullptr;  // whose fiber runs now
  std::jmp_buf panic_jmp_;
  bool panicked_ = false;
  bool aborted_ = false;                     // a violation ended the run early
  std::optional<InputErrorAt> input_error_;  // thrown on a fiber, rethrown by the loop
  std::optional<std::string> internal_error_;
  uint64_t clock_ = 0;  // logical time of the history
  std::vector<HistoryOp> history_;
  std::vector<uint64_t> cpu_root_;  // per CPU: the root its CR3 holds (0: none yet)
  ShadowTlb shadow_;
  uint64_t segments_ = 0;  // segments run so far (another thread ran if it moved)
  std::unique_ptr<Timeline> timeline_;
  std::map<std::string, std::string> family_;  // process → the first process of its fork family
  // Process → the thread whose exec or exit runs there now (one at a time).
  std::map<std::string, size_t> exclusive_;
  std::deque<Op> touch_parts_;  // the ops the history's touch parts point to
  RunReport report_;

  uint64_t ops_ = 0, accesses_ = 0, segv_ = 0, bus_ = 0;
  uint64_t page_table_pages_peak_ = 0;
};

RunReport TraceRun::run() {
  report_.trace = trace_.name;
  report_.file = trace_.file;
  report_.has_expect = trace_.expect.result || trace_.expect.violation || trace_.expect.digest ||
                       !trace_.expect.stats.empty();
  trace_scheduler_ = std::make_unique<TraceScheduler>(trace_, *this);
  controller_ = options_.controller != nullptr ? options_.controller : trace_scheduler_.get();
  kernel_->vm.mutations = options_.mutations;
  cpu_root_.assign(trace_.machine.cpus, 0);
  platform_.set_threads(this);
  platform_.arm_panic(&panic_jmp_);
  // A core panic off the threads' fibers (boot, teardown) longjmps here;
  // nothing between owns resources that need unwinding.
  if (setjmp(panic_jmp_) != 0) {
    panicked_ = true;
    add_violation("panic", "core panic: " + platform_.panic_message(), nullptr, -1);
  } else if (boot()) {
    if (options_.oracle) initial_model_ = model_;
    run_threads();
    if (input_error_) throw *input_error_;
    if (internal_error_) throw std::runtime_error(*internal_error_);
    finish();
  }
  platform_.arm_panic(nullptr);
  platform_.set_threads(nullptr);
  recorder_.close();
  report_.schedule = recorder_.steps();
  if (timeline_) {
    std::string why;
    if (!timeline_->write(options_.timeline, &why))
      throw InputErrorAt{"cannot write the timeline " + options_.timeline + ": " + why};
  }
  if (report_.stats.empty()) collect_stats();  // a panic skipped finish()
  check_expectations();
  return std::move(report_);
}

bool TraceRun::boot() {
  const uint64_t reserved_frames = trace_.machine.reserved >> vm::kPageShift;
  if (kernel_->boot(trace_.machine.memory, reserved_frames) != vm::Status::kOk) {
    add_violation("panic", "the core cannot boot in machine.memory", nullptr, -1);
    return false;
  }
  for (size_t i = 0; i < trace_.files.size(); ++i) {
    const FileSpec& f = trace_.files[i];
    if (kernel_->create_file(f.name.c_str(), f.size, static_cast<uint32_t>(i)) == nullptr) {
      add_violation("panic", "no memory to create file \"" + f.name + "\"", nullptr, -1);
      return false;
    }
    if (options_.oracle) model_.create_file(f);
  }
  std::set<std::string> forked;  // processes a fork creates
  for (const ThreadSpec& th : trace_.threads)
    for (const Op& op : th.ops)
      if (op.kind == OpKind::kFork) forked.insert(op.child);
  threads_.resize(trace_.threads.size());
  for (size_t i = 0; i < trace_.threads.size(); ++i) {
    ThreadState& t = threads_[i];
    t.spec = &trace_.threads[i];
    t.index = static_cast<uint32_t>(i);
    t.done = t.spec->ops.empty();
    t.fiber = std::make_unique<Fiber>([this, &t] { thread_body(t); });
    const std::string& name = t.spec->process;
    if (forked.count(name) != 0) {
      t.waiting_fork = true;
      continue;
    }
    t.process = kernel_->find_process(name.c_str());
    if (t.process != nullptr) continue;
    t.process = kernel_->create_process(name.c_str());
    if (t.process == nullptr) {
      add_violation("panic", "no memory to create process \"" + name + "\"", nullptr, -1);
      return false;
    }
    if (options_.oracle) model_.create_process(name);
  }
  return true;
}

// The scheduler loop: ask who runs, run that thread's fiber to its next
// scheduling point, tell the controller what the segment touched.
void TraceRun::run_threads() {
  SchedulingPoint sp;
  for (size_t index = 0;; ++index) {
    reap_killed();
    sp.index = index;
    sp.enabled = enabled();
    if (sp.enabled.empty()) {
      report_deadlock();
      return;
    }
    sp.preemptible = sp.kind == PointKind::kYield &&
                     std::find(sp.enabled.begin(), sp.enabled.end(),
                               static_cast<size_t>(sp.current)) != sp.enabled.end();
    const size_t next = controller_->choose(sp);
    if (trace_scheduler_->error()) {
      const ScheduleStep& s = trace_.schedule.steps[trace_scheduler_->error_step()];
      throw InputErrorAt{error_at(trace_.file, s.loc, s.path, *trace_scheduler_->error())};
    }
    if (std::find(sp.enabled.begin(), sp.enabled.end(), next) == sp.enabled.end())
      throw std::logic_error("the scheduler chose a thread that cannot run");
    recorder_.chosen(next);
    ThreadState& t = threads_[next];
    run_segment(t);
    controller_->segment_done(next, t.footprint);
    recorder_.segment(next, t.spec->name, t.stop, t.stop_point);
    if (aborted_ || input_error_ || internal_error_) return;
    sp.current = static_cast<long>(next);
    sp.kind = t.stop;
    sp.point = t.stop_point;
  }
}

std::vector<size_t> TraceRun::enabled() const {
  std::vector<size_t> e;
  for (const ThreadState& t : threads_) {
    if (t.done || t.waiting_fork || t.blocked_on != nullptr) continue;
    if (t.killed && !t.in_op) continue;
    if (waits_for_label(t)) continue;
    e.push_back(t.index);
  }
  return e;
}

// Under an explorer or the random policy, an op naming a label no mmap has
// bound yet waits until one does: orders in which it would run first are not
// the trace's meaning (docs/explore.md). A schedule of steps or round robin
// that runs it first is an input error.
bool TraceRun::waits_for_label(const ThreadState& t) const {
  const bool searching =
      options_.controller != nullptr || trace_.schedule.policy == Policy::kRandom;
  if (!searching || t.in_op || t.next_op >= t.spec->ops.size()) return false;
  const AddrExpr& a = t.spec->ops[t.next_op].addr;
  return a.is_label() && labels_.count(a.label) == 0;
}

void TraceRun::run_segment(ThreadState& t) {
  t.footprint = Footprint{};
  note_read(t, kResourceGlobal);
  note_write(t, family_resource(t));
  // A fault on a file mapping works on the file's object through every
  // segment it spans.
  if (t.fault_file != 0) note_write(t, t.fault_file);
  running_ = &t;
  ++segments_;
  if (timeline_) timeline_->switch_to(t.spec->cpu, t.index);
  platform_.set_current(t.spec->cpu, t.index);
  platform_.arm_panic(&t.panic_jmp);
  t.fiber->resume();
  platform_.arm_panic(&panic_jmp_);
  running_ = nullptr;
}

// Threads whose process exited between their ops end without running again
// (a fiber never started has nothing to unwind).
void TraceRun::reap_killed() {
  for (ThreadState& t : threads_) {
    if (!t.killed || t.done || t.in_op) continue;
    if (t.fiber->started() && !t.fiber->finished()) run_segment(t);
    t.done = true;
  }
}

void TraceRun::thread_body(ThreadState& t) {
  if (setjmp(t.panic_jmp) != 0) {
    panicked_ = aborted_ = true;
    add_violation("panic", "core panic: " + platform_.panic_message(), &t,
                  static_cast<long>(t.next_op));
    return;
  }
  try {
    const size_t n = t.spec->ops.size();
    while (t.next_op < n && !t.killed) {
      t.in_op = true;
      const bool ok = run_one(t, t.next_op);
      release_exclusive(t);
      t.in_op = false;
      ++t.next_op;
      wake(&t);  // an exec or exit may wait for this thread to leave the kernel
      if (!ok) {
        aborted_ = true;
        break;
      }
      if (t.next_op < n && !t.killed) suspend(t, PointKind::kOpEnd, nullptr);
    }
  } catch (const InputErrorAt& e) {
    input_error_ = e;
  } catch (const std::exception& e) {
    internal_error_ = e.what();
  }
  t.done = true;
  t.stop = PointKind::kDone;
  t.stop_point = nullptr;
}

void TraceRun::suspend(ThreadState& t, PointKind why, const char* point) {
  t.stop = why;
  t.stop_point = point;
  t.fiber->suspend();
}

void TraceRun::yield_point(vm::YieldPoint point) {
  if (timeline_)
    timeline_->yield_point(running_->spec->cpu, running_->index, replay::yield_point_name(point));
  suspend(*running_, PointKind::kYield, replay::yield_point_name(point));
}

void TraceRun::block(const void* channel, const char* what, const vm::Mutex* lock) {
  ThreadState& t = *running_;
  t.blocked_on = channel;
  t.blocked_what = what;
  t.blocked_lock = lock;
  suspend(t, PointKind::kBlocked, nullptr);
}

void TraceRun::wake(const void* channel) {
  for (ThreadState& t : threads_)
    if (t.blocked_on == channel) t.blocked_on = nullptr;
}

void TraceRun::lock_taken(const vm::Mutex& m) {
  if (running_ != nullptr) note_write(*running_, lock_resource(m));
}

void TraceRun::invalidated(vm::CpuSet cpus, uint64_t root, std::optional<uint64_t> va) {
  for (unsigned cpu = 0; cpu < trace_.machine.cpus; ++cpu) {
    if (!cpus.has(cpu) || shadow_.root(cpu) != root) continue;
    if (va) {
      shadow_.invalidate_page(cpu, *va);
    } else {
      shadow_.invalidate_all(cpu);
    }
  }
  if (timeline_) timeline_->shootdown(platform_.current_cpu(), cpus.bits(), va);
}

void TraceRun::frame_freed(uint64_t pa) {
  if (std::optional<std::string> why = shadow_.check_freed(pa)) stale_tlb(*why);
}

// A translation that should be gone was used or outlived its frame: the
// run ends, since whatever follows reads memory it should not.
void TraceRun::stale_tlb(const std::string& message) {
  if (aborted_) return;
  aborted_ = true;
  const ThreadState* t = running_;
  add_violation("stale-tlb", message, t, t != nullptr ? static_cast<long>(t->next_op) : -1);
}

uint64_t TraceRun::lock_resource(const vm::Mutex& m) const {
  // Kernel objects live in simulated physical memory: their physical
  // address is the same in every run of the same schedule prefix.
  const auto* p = reinterpret_cast<const uint8_t*>(&m);
  const uint8_t* base = platform_.phys(0);
  const uint64_t offset = p >= base && p < base + trace_.machine.memory
                              ? static_cast<uint64_t>(p - base)
                              : reinterpret_cast<uintptr_t>(p);
  return kResourceLock | (offset & ((uint64_t{1} << 56) - 1));
}

uint64_t TraceRun::name_hash(const std::string& name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: stable on every machine
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h & ((uint64_t{1} << 56) - 1);
}

// Processes of one fork family share objects whose reference counts and
// pages the core changes without a common lock (a munmap in the parent can
// make a collapse possible in the child): all their segments are dependent.
uint64_t TraceRun::family_resource(const ThreadState& t) const {
  auto it = family_.find(t.spec->process);
  return kResourceProcess | name_hash(it != family_.end() ? it->second : t.spec->process);
}

size_t TraceRun::ops_left(size_t thread) const {
  const ThreadState& t = threads_[thread];
  return t.spec->ops.size() - t.next_op;
}

std::string TraceRun::why_not_runnable(size_t thread) const {
  const ThreadState& t = threads_[thread];
  if (t.done || (t.killed && !t.in_op))
    return t.killed ? "cannot run: its process \"" + t.spec->process + "\" has exited"
                    : "has finished all its ops";
  if (t.waiting_fork)
    return "cannot run yet: the fork that creates its process \"" + t.spec->process +
           "\" has not run";
  if (t.blocked_on != nullptr) return std::string("is blocked on ") + t.blocked_what;
  return "cannot run";
}

// No thread can run but some have not finished: name who waits for what.
void TraceRun::report_deadlock() {
  std::string msg;
  for (const ThreadState& t : threads_) {
    if (t.done || (t.killed && !t.in_op)) continue;
    if (!msg.empty()) msg += "; ";
    if (waits_for_label(t)) {
      const Op& op = t.spec->ops[t.next_op];
      throw InputErrorAt{error_at(trace_.file, op.loc, op.path,
                                  "label @" + op.addr.label + " is never bound by any mmap")};
    }
    msg += "thread \"" + t.spec->name + "\" ";
    if (t.waiting_fork) {
      msg +=
          "waits for its process \"" + t.spec->process + "\", and no fork left to run creates it";
    } else if (t.blocked_lock != nullptr && t.blocked_on == t.blocked_lock) {
      const uint32_t owner = t.blocked_lock->owner;
      msg += std::string("waits for lock \"") + t.blocked_what + "\"";
      if (owner != vm::Mutex::kUnowned && owner <= threads_.size())
        msg += " held by thread \"" + threads_[owner - 1].spec->name + "\"";
    } else {
      msg += std::string("waits for ") + (t.blocked_what != nullptr ? t.blocked_what : "?");
    }
  }
  if (msg.empty()) return;  // every thread finished: the run is over
  aborted_ = true;
  add_violation("deadlock", msg, nullptr, -1);
}

// exec and exit change the whole process: its other threads must first
// leave the kernel (finish the op they are stopped in), as a real kernel
// waits for them to reach the user boundary.
void TraceRun::wait_for_siblings(ThreadState& t) {
  const std::string& process = t.spec->process;
  for (;;) {  // one exec or exit at a time in a process
    auto it = exclusive_.find(process);
    if (it == exclusive_.end() || it->second == t.index) break;
    t.waiting_exclusive = true;
    block(&it->second, "another thread's exec or exit in its process", nullptr);
    t.waiting_exclusive = false;
  }
  exclusive_[process] = t.index;
  for (;;) {
    const ThreadState* busy = nullptr;
    for (const ThreadState& o : threads_)
      if (&o != &t && o.in_op && !o.waiting_exclusive && o.spec->process == process) busy = &o;
    if (busy == nullptr) return;
    block(busy, "another thread of its process to finish its op", nullptr);
  }
}

void TraceRun::release_exclusive(ThreadState& t) {
  auto it = exclusive_.find(t.spec->process);
  if (it == exclusive_.end() || it->second != t.index) return;
  wake(&it->second);
  exclusive_.erase(it);
}

// A touch is one access per step, not one atomic op: where other threads ran
// inside one of its faults, the history gets the steps before and after as
// separate parts, each linearizable on its own (in the thread's order).
void TraceRun::add_touch_parts(ThreadState& t, const HistoryOp& whole) {
  const Op& op = *whole.op;
  const uint64_t steps = op.len == 0 ? 0 : (op.len - 1) / op.stride + 1;
  uint64_t first = 0, invoked = whole.invoked;
  for (size_t i = 0; i <= t.touch_splits.size(); ++i) {
    const bool last = i == t.touch_splits.size();
    const uint64_t end = last ? steps : t.touch_splits[i].steps;
    if (end > first || last) {
      Op part = op;
      part.addr = AddrExpr{};
      part.addr.offset = whole.addr + first * op.stride;
      part.len = last ? op.len - first * op.stride : (end - first - 1) * op.stride + 1;
      if (!last) {
        part.expect_fault.reset();
        part.result_given = false;
      }
      touch_parts_.push_back(part);
      HistoryOp h = whole;
      h.op = &touch_parts_.back();
      h.addr = part.addr.offset;
      h.invoked = invoked;
      h.responded = last ? whole.responded : t.touch_splits[i].before;
      if (!last) h.core = OpOutcome{};
      history_.push_back(h);
    }
    if (!last) {
      first = end;
      invoked = t.touch_splits[i].after;
    }
  }
  t.touch_splits.clear();
}

bool TraceRun::run_one(ThreadState& t, size_t op_index) {
  const Op& op = t.spec->ops[op_index];
  ++ops_;
  HistoryOp h;
  h.thread = t.index;
  h.op_index = op_index;
  h.op = &op;
  h.invoked = clock_++;
  if (op.kind == OpKind::kFork || op.kind == OpKind::kExec || op.kind == OpKind::kExit ||
      op.kind == OpKind::kPoke || op.kind == OpKind::kTruncate || op.kind == OpKind::kPwrite)
    note_write(t, kResourceGlobal);
  if (op.addr.is_label() || op.addr.offset != 0) h.addr = resolve(op, op.addr);
  if (timeline_) timeline_->op_begin(t.spec->cpu, t.index, op_index, describe_op(op));
  shadow_.op_started();
  h.core = core_op(t, op);
  h.responded = clock_++;
  if (std::optional<std::string> why = shadow_.op_finished()) stale_tlb(*why);
  if (timeline_)
    timeline_->op_end(t.spec->cpu, t.index, op_index,
                      h.core.signal != vm::Signal::kNone ? signal_name(h.core.signal)
                                                         : status_name(h.core.status));
  if (aborted_) return false;
  note_peaks();
  if (h.core.signal == vm::Signal::kSegv) ++segv_;
  if (h.core.signal == vm::Signal::kBus) ++bus_;
  // The trace's own assertions (expect_fault, result, a read's value) need
  // no model: the core's outcome alone must meet them.
  if (std::optional<Mismatch> m = compare_outcomes(op, h.core, h.core)) {
    add_violation(m->kind, m->message, &t, static_cast<long>(op_index));
    return false;
  }
  if (t.touch_splits.empty()) {
    history_.push_back(h);
  } else {
    add_touch_parts(t, h);
  }
  // Invariants hold between ops, not while another thread is stopped inside one.
  bool quiescent = true;
  for (const ThreadState& o : threads_) quiescent = quiescent && (&o == &t || !o.in_op);
  if (options_.audit == AuditMode::kEveryOp && quiescent &&
      !audit_now(&t, static_cast<long>(op_index)))
    return false;
  return true;
}

uint64_t TraceRun::resolve(const Op& op, const AddrExpr& a) {
  if (!a.is_label()) return a.offset;
  auto it = labels_.find(a.label);
  if (it == labels_.end())
    throw InputErrorAt{error_at(trace_.file, op.loc, op.path,
                                "label @" + a.label + " is used before any mmap bound it")};
  return it->second + a.offset;
}

OpOutcome TraceRun::core_op(ThreadState& t, const Op& op) {
  vm::Kernel& k = *kernel_;
  vm::Process& proc = *t.process;
  OpOutcome out;
  switch (op.kind) {
    case OpKind::kMmap: {
      vm::MmapArgs args;
      args.has_addr = op.has_addr;
      args.addr = op.has_addr ? resolve(op, op.addr) : 0;
      args.len = op.len;
      args.prot = static_cast<vm::Prot>(op.prot);
      args.shared = op.shared;
      args.fixed = op.fixed;
      args.populate = op.populate;
      if (!op.file.empty()) {
        args.file = op.file.c_str();
        args.offset = op.offset;
        note_write(t, kResourceFile | name_hash(op.file));
      }
      out.status = vm::sys_mmap(k, proc, args, &out.value);
      out.has_value = true;
      if (out.status == vm::Status::kOk && !op.as.empty()) labels_[op.as] = out.value;
      break;
    }
    case OpKind::kMunmap:
      out.status = vm::sys_munmap(k, proc, resolve(op, op.addr), op.len);
      break;
    case OpKind::kMprotect:
      out.status =
          vm::sys_mprotect(k, proc, resolve(op, op.addr), op.len, static_cast<vm::Prot>(op.prot));
      break;
    case OpKind::kMadvise:
      out.status = vm::sys_madvise(
          k, proc, resolve(op, op.addr), op.len,
          op.advice == Advice::kDontneed ? vm::Advice::kDontNeed : vm::Advice::kWillNeed);
      break;
    case OpKind::kBrk:
      out.status = vm::sys_brk(k, proc, resolve(op, op.addr), &out.value);
      out.has_value = out.status == vm::Status::kOk;
      break;
    case OpKind::kSbrk:
      out.status = vm::sys_sbrk(k, proc, op.incr, &out.value);
      out.has_value = out.status == vm::Status::kOk;
      break;
    case OpKind::kRead: {
      UserAccess a{UserAccessKind::kLoad, resolve(op, op.addr), op.size, 0, 0, 1};
      out = user_access(t, a);
      out.has_value = out.signal == vm::Signal::kNone;
      break;
    }
    case OpKind::kWrite: {
      UserAccess a{UserAccessKind::kStore, resolve(op, op.addr), op.size, op.value, 0, 1};
      out = user_access(t, a);
      break;
    }
    case OpKind::kTouch: {
      // Steps wrap modulo 2^64 like the CPU's address arithmetic; the first
      // one outside user space faults.
      const uint64_t addr = resolve(op, op.addr);
      const uint64_t count = op.len == 0 ? 0 : (op.len - 1) / op.stride + 1;
      UserAccess a{op.touch_write ? UserAccessKind::kTouchStore : UserAccessKind::kTouchLoad,
                   addr,
                   1,
                   op.value & 0xff,
                   op.stride,
                   count};
      out = count == 0 ? OpOutcome{} : user_access(t, a);
      break;
    }
    case OpKind::kPwrite:
      out.status =
          vm::sys_pwrite(k, op.file.c_str(), op.offset, static_cast<uint8_t>(op.value), op.len);
      break;
    case OpKind::kTruncate:
      out.status = vm::sys_truncate(k, op.file.c_str(), op.file_size);
      break;
    case OpKind::kFork: {
      vm::Process* child = nullptr;
      out.status = vm::sys_fork(k, proc, op.child.c_str(), &child);
      if (out.status == vm::Status::kOk) {
        auto it = family_.find(t.spec->process);
        family_[op.child] = it != family_.end() ? it->second : t.spec->process;
        start_threads_of(op.child, child);
      }
      break;
    }
    case OpKind::kExit:
      for (ThreadState& o : threads_)
        if (o.spec->process == t.spec->process && &o != &t) o.killed = true;
      wait_for_siblings(t);
      // Another thread's exit may have ended the process meanwhile.
      if (t.process == nullptr) {
        out.status = vm::Status::kFault;
        break;
      }
      end_process(t.spec->process);
      break;
    case OpKind::kExec:
      wait_for_siblings(t);
      if (t.process == nullptr) {
        out.status = vm::Status::kFault;
        break;
      }
      out.status = vm::sys_exec(k, *t.process, {op.text, op.data, op.bss, op.stack});
      break;
    case OpKind::kPoke:
      out.status =
          kernel_->find_process(op.process.c_str()) == nullptr
              ? vm::Status::kFault
              : vm::sys_poke(k, op.process.c_str(), resolve(op, op.addr), op.size, op.value);
      break;
    case OpKind::kYield:
      break;
    default:
      // check_supported() refused the trace before it ran.
      throw std::logic_error(std::string("op not supported by the runner: ") +
                             op_kind_name(op.kind));
  }
  return out;
}

// The op in the model, with the address operands the core resolved when the
// op was invoked (a label may be bound again later).
OpOutcome TraceRun::model_op(Model& model, const HistoryOp& h) {
  const Op& op = *h.op;
  const std::string& proc = trace_.threads[h.thread].process;
  ModelOutcome m;
  switch (op.kind) {
    case OpKind::kMmap: {
      const std::optional<uint64_t> addr =
          op.has_addr ? std::optional<uint64_t>(h.addr) : std::nullopt;
      m = op.file.empty()
              ? model.mmap(proc, addr, op.len, op.prot, op.shared, op.fixed, op.populate)
              : model.mmap_file(proc, addr, op.len, op.prot, op.shared, op.fixed, op.populate,
                                op.file, op.offset);
      break;
    }
    case OpKind::kPwrite:
      m = model.pwrite(op.file, op.offset, static_cast<uint8_t>(op.value), op.len);
      break;
    case OpKind::kTruncate:
      m = model.truncate(op.file, op.file_size);
      break;
    case OpKind::kMunmap:
      m = model.munmap(proc, h.addr, op.len);
      break;
    case OpKind::kMprotect:
      m = model.mprotect(proc, h.addr, op.len, op.prot);
      break;
    case OpKind::kMadvise:
      m = model.madvise(proc, h.addr, op.len, op.advice);
      break;
    case OpKind::kBrk:
      m = model.brk(proc, h.addr);
      break;
    case OpKind::kSbrk:
      m = model.sbrk(proc, op.incr);
      break;
    case OpKind::kRead:
      m = model.read(proc, h.addr, op.size);
      break;
    case OpKind::kWrite:
      m = model.write(proc, h.addr, op.size, op.value);
      break;
    case OpKind::kTouch:
      m = model.touch(proc, h.addr, op.len, op.stride, op.touch_write,
                      static_cast<uint8_t>(op.value));
      break;
    case OpKind::kFork:
      m = model.fork(proc, op.child);
      break;
    case OpKind::kExit:
      m = model.exit(proc);
      break;
    case OpKind::kExec:
      // The model has no memory limit: an exec the trace says runs out of
      // memory fails there too, and nothing else does.
      m = op.result_given && op.result == ExpectedResult::kEnomem
              ? model.exec_fails_out_of_memory(proc)
              : model.exec(proc, op.text, op.data, op.bss, op.stack);
      break;
    case OpKind::kPoke:
      if (model.has_process(op.process)) {
        m = model.poke(op.process, h.addr, op.size, op.value);
      } else {
        m.status = vm::Status::kFault;  // no such process (not yet forked, or exited)
      }
      break;
    default:
      break;
  }
  return OpOutcome::from_model(op, m);
}

const char* fault_result_name(vm::FaultResult r) {
  switch (r) {
    case vm::FaultResult::kResolved:
      return "resolved";
    case vm::FaultResult::kSegv:
      return "segv";
    case vm::FaultResult::kBus:
      return "bus";
    case vm::FaultResult::kNoMem:
      return "no memory";
  }
  return "?";
}

// The pages an access touches, in order, each once.
std::vector<uint64_t> access_pages(const UserAccess& a) {
  std::vector<uint64_t> pages;
  const uint64_t n =
      a.kind == UserAccessKind::kLoad || a.kind == UserAccessKind::kStore ? 1 : a.count;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t page = (a.addr + i * a.stride) & ~uint64_t{vm::kPageMask};
    if (pages.empty() || pages.back() != page) pages.push_back(page);
  }
  return pages;
}

// Before an access: no page it touches may go through a translation its CPU
// should no longer hold.
bool TraceRun::check_shadow(ThreadState& t, vm::AddressSpace& as,
                            const std::vector<uint64_t>& pages) {
  const uint32_t cpu = t.spec->cpu;
  // A CPU that runs another address space now caches none of this one's
  // translations: the CR3 load before the access drops them.
  if (shadow_.entry_count(cpu) == 0 || shadow_.root(cpu) != as.pmap.root()) return true;
  for (uint64_t page : pages) {
    if (page >= vm::kUserTop) break;
    vm::paddr_t pa = 0;
    vm::PteAttrs attrs;
    ShadowTlb::Pte now;
    if (as.pmap.extract(page, &pa, &attrs))
      now = std::make_pair(vm::page_trunc(pa), attrs.writable);
    if (std::optional<std::string> why = shadow_.check_access(cpu, page, now)) {
      stale_tlb(*why);
      return false;
    }
  }
  return true;
}

// After an access completed: its CPU now caches the translations it used.
// They are also what the thread's segment touched.
void TraceRun::record_shadow(ThreadState& t, vm::AddressSpace& as,
                             const std::vector<uint64_t>& pages, bool write) {
  for (uint64_t page : pages) {
    if (page >= vm::kUserTop) break;
    vm::paddr_t pa = 0;
    vm::PteAttrs attrs;
    if (!as.pmap.extract(page, &pa, &attrs)) continue;
    pa = vm::page_trunc(pa);
    shadow_.record(t.spec->cpu, page, pa, attrs.writable);
    if (write) {
      note_write(t, kResourceFrame | pa);
    } else {
      note_read(t, kResourceFrame | pa);
    }
  }
}

// One user access on the thread's CPU: run it on the emulated CPU, send each
// #PF to the core's fault handler, resume until it completes or a signal ends it.
OpOutcome TraceRun::user_access(ThreadState& t, const UserAccess& access) {
  const uint32_t cpu = t.spec->cpu;
  ++accesses_;
  OpOutcome out;
  UserContext ctx = machine_.prepare(access);
  const bool write =
      access.kind == UserAccessKind::kStore || access.kind == UserAccessKind::kTouchStore;
  const std::vector<uint64_t> pages = access_pages(access);
  uint64_t checked_at = segments_;
  activate(cpu, *t.process->as);
  if (!check_shadow(t, *t.process->as, pages)) return out;

  vm::UserFault faults;
  // The simulator's stub page is user-visible; an access there is, by
  // definition, an access to the kernel half: a fault the core resolves.
  bool reserved = machine_.reserved_range(
      access.addr, access.kind == UserAccessKind::kLoad || access.kind == UserAccessKind::kStore
                       ? access.size
                       : 1);
  for (;;) {
    Stop stop;
    if (reserved) {
      stop.kind = StopKind::kPageFault;
      stop.fault_addr = access.addr;
      stop.fault_write =
          access.kind == UserAccessKind::kStore || access.kind == UserAccessKind::kTouchStore;
    } else {
      // The address space may have changed (exec) while the thread was
      // stopped in a fault: take it afresh each round.
      vm::AddressSpace& as = *t.process->as;
      activate(cpu, as);
      stop = machine_.run(cpu, as.pmap.root(), ctx);
    }
    if (stop.kind == StopKind::kDone) {
      out.value = stop.value;
      record_shadow(t, *t.process->as, pages, write);
      return out;
    }
    if (stop.kind == StopKind::kGeneralProtection) {
      // A non-canonical address: SIGSEGV, as on Linux. The access address is in rdi.
      out.signal = vm::Signal::kSegv;
      out.fault_addr = ctx.rdi;
      return out;
    }
    const vm::Access kind = stop.fault_write ? vm::Access::kWrite : vm::Access::kRead;
    if (timeline_) timeline_->fault_begin(cpu, t.index, stop.fault_addr, stop.fault_write);
    if (const vm::Region* region = vm::vm_map_lookup(*t.process->as, stop.fault_addr);
        region != nullptr && region->file != nullptr) {
      t.fault_file = kResourceFile | name_hash(region->file->name);
      note_write(t, t.fault_file);
    }
    const uint64_t segments_before = segments_;
    const uint64_t fault_began = clock_++;
    const vm::FaultResult r = vm::vm_fault(kernel_->vm, *t.process->as, stop.fault_addr, kind);
    t.fault_file = 0;
    if (segments_ != segments_before && access.stride != 0 &&
        (access.kind == UserAccessKind::kTouchLoad || access.kind == UserAccessKind::kTouchStore))
      t.touch_splits.push_back(
          {(stop.fault_addr - access.addr) / access.stride, fault_began, clock_++});
    if (timeline_) timeline_->fault_end(cpu, t.index, fault_result_name(r));
    if (aborted_) return out;
    // Others ran while the fault was stopped: what this CPU caches may have
    // been invalidated, or should have been.
    if (segments_ != checked_at) {
      checked_at = segments_;
      if (!check_shadow(t, *t.process->as, pages)) return out;
    }
    out.signal = vm::UserFault::signal_for(r, reserved);
    if (out.signal != vm::Signal::kNone) {
      out.out_of_memory = r == vm::FaultResult::kNoMem;
      out.fault_addr = stop.fault_addr;
      return out;
    }
    faults.resolved(platform_, stop.fault_addr);
  }
}

// The CPU runs `as` now. A CR3 load drops every user translation (no PCID),
// so a CPU is in the active set of the one address space it runs: TLB
// shootdowns skip the others, which flush lazily when they switch to it.
void TraceRun::activate(uint32_t cpu, vm::AddressSpace& as) {
  const uint64_t root = as.pmap.root();
  if (cpu_root_[cpu] != root) {
    for (vm::Process* p = kernel_->processes.front(); p != nullptr; p = kernel_->processes.next(p))
      p->as->pmap.active_cpus().remove(cpu);
    cpu_root_[cpu] = root;
    shadow_.load_root(cpu, root);
  }
  // Also when the root is the same: a new address space may reuse the
  // frame of a destroyed one.
  as.pmap.active_cpus().add(cpu);
}

// The fork that creates `name` ran: its threads may start.
void TraceRun::start_threads_of(const std::string& name, vm::Process* process) {
  for (ThreadState& t : threads_) {
    if (t.spec->process != name) continue;
    t.process = process;
    t.waiting_fork = false;
  }
}

// exit: the process and all its memory go; its threads run no more ops.
void TraceRun::end_process(const std::string& name) {
  vm::Process* p = kernel_->find_process(name.c_str());
  for (ThreadState& t : threads_) {
    if (t.spec->process != name) continue;
    t.process = nullptr;
    t.killed = true;
  }
  if (p != nullptr) vm::sys_exit(*kernel_, *p);
}

void TraceRun::note_peaks() {
  uint64_t tables = 0;
  for (vm::Process* p = kernel_->processes.front(); p != nullptr; p = kernel_->processes.next(p))
    tables += p->as->pmap.table_pages();
  if (tables > page_table_pages_peak_) page_table_pages_peak_ = tables;
}

bool TraceRun::audit_now(const ThreadState* t, long op) {
  vm::AuditMessage why;
  if (vm::audit(*kernel_, why)) return true;
  add_violation("invariant", why.c_str(), t, op);
  return false;
}

void TraceRun::finish() {
  // A run that ended with threads stopped inside ops (a violation, a
  // deadlock) has locks held and state half changed: only its digest means
  // anything.
  bool quiescent = true;
  for (const ThreadState& t : threads_) quiescent = quiescent && !t.in_op;
  if (quiescent && report_.pass() && options_.audit != AuditMode::kOff && !audit_now(nullptr, -1))
    return;
  char hex[65];
  vm::state_digest(*kernel_, hex);
  report_.digest = hex;
  if (report_.pass() && options_.oracle) check_history();
  // The stats describe the trace, not the teardown the leak check does.
  collect_stats();
  if (quiescent) check_leaks();
}

// Spec §6: every op's outcome and the final state must be those of some
// sequential order of the ops that keeps real-time order.
void TraceRun::check_history() {
  // An order may put a process's exit before another op on it: the model
  // then has no such process, which the core reports as it would.
  const ApplyOp apply = [this](Model& model, const HistoryOp& h) {
    try {
      return model_op(model, h);
    } catch (const std::out_of_range&) {
      OpOutcome gone;
      const OpKind k = h.op->kind;
      if (k == OpKind::kRead || k == OpKind::kWrite || k == OpKind::kTouch) {
        gone.signal = vm::Signal::kSegv;
      } else {
        gone.status = vm::Status::kFault;
      }
      return gone;
    }
  };
  const LinearizabilityResult r =
      check_linearizable(history_, initial_model_, apply, report_.digest);
  switch (r.verdict) {
    case Linearizability::kLinearizable:
      return;
    case Linearizability::kInconclusive:
      throw std::runtime_error(r.message);
    case Linearizability::kViolation:
      break;
  }
  const ThreadState* t = nullptr;
  long op = -1;
  if (r.blamed) {
    const HistoryOp& h = history_[*r.blamed];
    t = &threads_[h.thread];
    op = static_cast<long>(h.op_index);
  }
  add_violation(r.mismatch->kind, r.mismatch->message, t, op);
}

// Tear everything down: every frame but the boot-time ones and the slab
// caches' own must come back.
void TraceRun::check_leaks() {
  kernel_->destroy_all();
  vm::Vm& vm = kernel_->vm;
  uint64_t held = 0;
  for (uint64_t pfn = 0; pfn < vm.pages.frame_count(); ++pfn) {
    const vm::Page::State s = vm.pages.page_at(pfn)->state;
    if (s == vm::Page::State::kObject || s == vm::Page::State::kPageTable) ++held;
  }
  const uint64_t objects = vm.objects.stats().in_use + vm.regions.stats().in_use +
                           vm.spaces.stats().in_use + kernel_->process_slab.stats().in_use +
                           kernel_->vnode_slab.stats().in_use;
  if (held != 0 || objects != 0)
    add_violation("leak",
                  std::to_string(held) + " frames and " + std::to_string(objects) +
                      " kernel objects still held after every process exited",
                  nullptr, -1);
}

void TraceRun::add_violation(const char* kind, std::string message, const ThreadState* t, long op) {
  Violation v;
  v.kind = kind;
  v.message = std::move(message);
  if (t != nullptr) v.thread = t->spec->name;
  v.op = op;
  v.step = recorder_.current_step();
  if (timeline_)
    timeline_->violation(v.kind, v.message,
                         t != nullptr ? std::optional<size_t>(t->index) : std::nullopt, v.op);
  report_.violations.push_back(std::move(v));
}

void TraceRun::collect_stats() {
  replay::RunCounters c;
  c.ops = ops_;
  c.accesses = accesses_;
  c.signals_segv = segv_;
  c.signals_bus = bus_;
  c.tlb_page_invalidations = platform_.tlb_page_invalidations();
  c.tlb_full_flushes = platform_.tlb_full_flushes();
  c.page_table_pages_peak = page_table_pages_peak_;
  uint64_t values[replay::kRunStatCount];
  replay::run_stat_values(kernel_->vm, c, values);
  report_.stats.clear();
  for (size_t i = 0; i < replay::kRunStatCount; ++i)
    report_.stats.emplace_back(replay::kRunStatNames[i], static_cast<int64_t>(values[i]));
}

void TraceRun::check_expectations() {
  const Expectations& e = trace_.expect;
  const std::string result = report_.pass() ? "pass" : "violation";
  if (e.result && *e.result != result)
    report_.unmet.push_back("expected result " + *e.result + ", got " + result);
  if (e.violation) {
    bool found = false;
    for (const Violation& v : report_.violations) found = found || v.kind == *e.violation;
    if (!found) report_.unmet.push_back("expected a " + *e.violation + " violation, got none");
  }
  if (e.digest && (!report_.digest || *report_.digest != *e.digest))
    report_.unmet.push_back("expected digest " + *e.digest + ", got " +
                            report_.digest.value_or("none"));
  for (const auto& [name, want] : e.stats) {
    for (const auto& [have_name, have] : report_.stats) {
      if (have_name == name && have != want)
        report_.unmet.push_back("expected stat " + name + " = " + std::to_string(want) + ", got " +
                                std::to_string(have));
    }
  }
}

}  // namespace

std::variant<RunReport, RunError> run_trace(const Trace& trace, const RunOptions& options) {
  if (std::optional<RunError> e = check_supported(trace)) return *e;
  try {
    TraceRun run(trace, options);
    return run.run();
  } catch (const InputErrorAt& e) {
    return RunError{2, e.message};
  } catch (const std::exception& e) {
    return RunError{3, trace.file + ": internal error: " + e.what()};
  }
}

}  // namespace vmsim
