#include "trace_runner.hpp"

#include <new>

#include "cpu.hpp"
#include "disk.hpp"
#include "json_out.hpp"
#include "kthread.hpp"
#include "lib/mem.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "port_platform.hpp"
#include "port_threads.hpp"
#include "replay/run_stats.hpp"
#include "sched/yield_point_named.hpp"
#include "smp.hpp"
#include "sys/audit.hpp"
#include "sys/kernel.hpp"
#include "sys/state_digest.hpp"
#include "sys/syscalls.hpp"
#include "sys/user_fault.hpp"
#include "trace_schedule.hpp"
#include "user.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"

namespace port {
namespace {

using namespace image;
using Message = vm::FixedString<512>;
using replay::PointKind;

constexpr unsigned kMaxViolations = 8;
constexpr unsigned kMaxUnmet = 16;
// A trace thread's kernel stack: the core's deepest path (a fault with a
// copy-on-write copy under the port's own frames) needs a few KiB.
constexpr size_t kThreadStack = 48 * 1024;

struct Outcome {
  vm::Status status = vm::Status::kOk;
  vm::Signal signal = vm::Signal::kNone;
  uint64_t value = 0;
  bool has_value = false;
  uint64_t fault_addr = 0;
  bool out_of_memory = false;
};

struct Violation {
  const char* kind = nullptr;
  Message message;
  long thread = -1;  // thread index
  long op = -1;
  long step = -1;
};

class TraceRun;

// One trace thread: its kernel thread, where it is in its ops, and why it
// cannot run (sim/run/runner.cpp ThreadState, field for field).
struct ThreadState {
  TraceRun* run = nullptr;
  const ImageThread* spec = nullptr;
  vm::Process* process = nullptr;  // nullptr until its fork ran, and after exit
  uint32_t index = 0;
  uint64_t next_op = 0;  // the op it runs next, or is stopped inside
  bool in_op = false;    // stopped inside an op (at a yield point or blocked)
  bool waiting_fork = false;
  bool killed = false;  // its process exited: no new op starts
  bool done = false;    // its kernel thread has ended (or will never start)
  // Blocked: the channel it sleeps on (nullptr: runnable), what it waits
  // for, and the lock when it is one.
  const void* blocked_on = nullptr;
  const char* blocked_what = nullptr;
  const vm::Mutex* blocked_lock = nullptr;
  KThread context;                     // its stack is allocated when it first runs
  KJmpBuf panic_jmp;                   // a core panic on this thread comes back here
  PointKind stop = PointKind::kStart;  // how its last segment ended
  vm::YieldPoint stop_point = vm::YieldPoint::kCount;
};

using vm::signal_name;
using vm::status_name;

bool is_access(ImageOpKind k) {
  return k == ImageOpKind::kRead || k == ImageOpKind::kWrite || k == ImageOpKind::kTouch;
}

// The replay: every trace thread runs its ops in the core on its own kernel
// thread, on the physical CPU that hosts its `cpu`; the scheduler loop on the
// BSP picks who runs at every yield point, op end and block with the trace's
// schedule (sim/run/runner.cpp run_threads, the same loop). With the model
// off, only the trace's own assertions (`value`, `expect_fault`, `result`),
// the audit, the leak check and a deadlock can fail a run.
class TraceRun final : public PortThreads, private replay::ThreadProgress {
 public:
  explicit TraceRun(const ImageReader& img)
      : img_(img),
        platform_(disk_, img.header().machine.cpus),
        kernel_(new (boot_alloc(sizeof(vm::Kernel), 64)) vm::Kernel(platform_)),
        threads_(boot_alloc_array<ThreadState>(img.count(kThreads))),
        thread_count_(img.count(kThreads)),
        enabled_(boot_alloc_array<size_t>(img.count(kThreads) + 1)),
        labels_(boot_alloc_array<uint64_t>(img.count(kLabels) + 1)),
        label_bound_(boot_alloc_array<bool>(img.count(kLabels) + 1)),
        cpu_root_(boot_alloc_array<uint64_t>(img.header().machine.cpus + 1)),
        schedule_(img) {
    disk_.init(img);
  }

  ExitCode run();

  // PortThreads
  bool on_thread() const override { return running_ != nullptr; }
  void yield_point(vm::YieldPoint point) override;
  void block(const void* channel, const char* what, const vm::Mutex* lock) override;
  void wake(const void* channel) override;

 private:
  // replay::ThreadProgress
  vm::u64 ops_left(size_t thread) const override {
    return threads_[thread].spec->op_count - threads_[thread].next_op;
  }

  bool boot();
  void run_threads();
  size_t enabled() const;
  bool waits_for_label(const ThreadState& t) const;
  void run_segment(ThreadState& t);
  static void resume_on_cpu(void* arg);
  static void thread_entry(void* arg);
  void reap_killed();
  void thread_body(ThreadState& t);
  void suspend(ThreadState& t, PointKind why, vm::YieldPoint point);
  [[noreturn]] void refuse_step();
  void why_not_runnable(Message& m, const ThreadState& t) const;
  void report_deadlock();
  void wait_for_siblings(ThreadState& t);
  void start_threads_of(uint32_t process, vm::Process* p);
  void end_process(uint32_t process);
  bool run_one(ThreadState& t, uint64_t op_index);
  Outcome core_op(ThreadState& t, const ImageOp& op, uint64_t addr);
  void activate(unsigned cpu, vm::AddressSpace& as);
  Outcome user_access(ThreadState& t, bool store, uint64_t addr, uint32_t size, uint64_t value,
                      uint64_t stride, uint64_t count);
  uint64_t resolve(uint32_t t, uint64_t op_index, const ImageOp& op);
  void finish();
  void check_leaks();
  void check_expectations();
  void collect_stats();
  void note_peaks();
  Violation& add_violation(const char* kind, long thread, long op);
  bool pass() const { return violation_count_ == 0; }
  void describe_op(Message& m, const ImageOp& op) const;
  void compare(uint32_t t, uint64_t op_index, const ImageOp& op, const Outcome& o);
  void print_json() const;
  const char* thread_name(const ThreadState& t) const { return img_.str(t.spec->name); }
  const char* process_name(uint32_t process) const { return img_.str(img_.process(process).name); }

  const ImageReader& img_;
  Disk disk_;
  PortPlatform platform_;
  vm::Kernel* kernel_;
  ThreadState* threads_;
  uint64_t thread_count_;
  size_t* enabled_;  // the enabled set enabled() computes, ascending
  uint64_t* labels_;
  bool* label_bound_;
  uint64_t* cpu_root_;  // per logical CPU: the root it last ran (0: none yet)
  TraceSchedule schedule_;
  // The thread whose kernel thread runs now (on the CPU that hosts it);
  // nullptr in the scheduler loop. One at a time: the others are stopped.
  ThreadState* running_ = nullptr;
  bool aborted_ = false;  // a violation ended the run early

  Violation violations_[kMaxViolations];
  unsigned violation_count_ = 0;
  Message unmet_[kMaxUnmet];
  unsigned unmet_count_ = 0;
  char digest_[65] = {};
  bool has_digest_ = false;
  bool has_stats_ = false;
  uint64_t stats_[replay::kRunStatCount];  // kRunStatNames order

  uint64_t ops_ = 0, accesses_ = 0, segv_ = 0, bus_ = 0;
  uint64_t page_table_pages_peak_ = 0;
  bool first_op_seen_ = false;
};

ExitCode TraceRun::run() {
  PerCpu* pc = percpu();
  pc->logical = 0;
  pc->thread = 0;
  KJmpBuf jb;
  // A core panic in the scheduler loop's own work (boot, the final checks)
  // comes back here; one on a trace thread comes back to its thread_entry.
  if (kjmp_set(&jb) != 0) {
    Message m;
    m << "core panic: " << pc->panic_message;
    add_violation("panic", -1, -1).message = m;
  } else {
    pc->panic_jmp = &jb;
    if (boot()) {
      platform_.set_threads(this);
      run_threads();
      platform_.set_threads(nullptr);
      finish();
    }
    pc->panic_jmp = nullptr;
  }
  platform_.set_threads(nullptr);
  schedule_.log().close();
  if (!has_stats_) collect_stats();
  check_expectations();
  print_json();
  return pass() && unmet_count_ == 0 ? ExitCode::kPass : ExitCode::kViolation;
}

bool TraceRun::boot() {
  const ImageHeader& h = img_.header();
  if (kernel_->boot(h.machine.memory, h.machine.reserved >> vm::kPageShift) != vm::Status::kOk) {
    add_violation("panic", -1, -1).message << "the core cannot boot in machine.memory";
    return false;
  }
  for (uint64_t i = 0; i < img_.count(kFiles); ++i) {
    const char* name = img_.str(img_.file(i).name);
    if (kernel_->create_file(name, img_.file(i).size, static_cast<uint32_t>(i)) == nullptr) {
      add_violation("panic", -1, -1).message << "no memory to create file \"" << name << "\"";
      return false;
    }
  }
  for (uint32_t i = 0; i < thread_count_; ++i) {
    ThreadState& t = threads_[i];
    t.run = this;
    t.spec = &img_.thread(i);
    t.index = i;
    t.done = t.spec->op_count == 0;
    bool forked = false;  // a fork creates the process: the thread waits for it
    for (uint64_t k = 0; k < img_.count(kOps); ++k)
      forked =
          forked || (img_.op(k).kind == ImageOpKind::kFork && img_.op(k).child == t.spec->process);
    if (forked) {
      t.waiting_fork = true;
      continue;
    }
    const char* name = process_name(t.spec->process);
    t.process = kernel_->find_process(name);
    if (t.process != nullptr) continue;
    t.process = kernel_->create_process(name);
    if (t.process == nullptr) {
      add_violation("panic", -1, -1).message << "no memory to create process \"" << name << "\"";
      return false;
    }
  }
  return true;
}

// The scheduler loop: ask who runs, run that thread's kernel thread to its
// next scheduling point, write the segment down.
void TraceRun::run_threads() {
  replay::SchedulePoint sp;
  for (;;) {
    reap_killed();
    sp.enabled = enabled_;
    sp.enabled_count = enabled();
    if (sp.enabled_count == 0) {
      report_deadlock();
      return;
    }
    const size_t next = schedule_.choose(sp, *this);
    if (schedule_.failed()) refuse_step();
    if (!sp.is_enabled(next)) kpanic("the scheduler chose a thread that cannot run");
    schedule_.log().chosen(next);
    ThreadState& t = threads_[next];
    run_segment(t);
    schedule_.log().segment(next, t.stop, t.stop_point);
    if (aborted_) return;
    sp.current = static_cast<long>(next);
    sp.kind = t.stop;
    sp.point = t.stop_point;
  }
}

size_t TraceRun::enabled() const {
  size_t n = 0;
  for (uint32_t i = 0; i < thread_count_; ++i) {
    const ThreadState& t = threads_[i];
    if (t.done || t.waiting_fork || t.blocked_on != nullptr) continue;
    if (t.killed && !t.in_op) continue;
    if (waits_for_label(t)) continue;
    enabled_[n++] = i;
  }
  return n;
}

// Under the random policy an op naming a label no mmap has bound yet waits
// until one does, as in the simulator: orders in which it would run first
// are not the trace's meaning. Steps or round robin that run it first are an
// input error.
bool TraceRun::waits_for_label(const ThreadState& t) const {
  if (img_.header().policy != ImagePolicy::kRandom || t.in_op || t.next_op >= t.spec->op_count)
    return false;
  const ImageOp& op = img_.thread_op(t.index, t.next_op);
  return op.addr_label != kNone && !label_bound_[op.addr_label];
}

// Runs `t` on the physical CPU that hosts its logical one until it stops.
void TraceRun::run_segment(ThreadState& t) {
  if (!t.context.started) {
    auto* stack = static_cast<uint8_t*>(boot_alloc(kThreadStack, 16));
    kthread_init(&t.context, stack, kThreadStack, &TraceRun::thread_entry, &t);
  }
  running_ = &t;
  run_on(PortPlatform::physical_cpu(t.spec->cpu), &TraceRun::resume_on_cpu, &t);
  running_ = nullptr;
}

// On the thread's CPU: it runs as that CPU's trace cpu and thread, with its
// own way back from a core panic, until it suspends.
void TraceRun::resume_on_cpu(void* arg) {
  ThreadState& t = *static_cast<ThreadState*>(arg);
  PerCpu* pc = percpu();
  pc->logical = t.spec->cpu;
  pc->thread = t.index;
  KJmpBuf* const outer = pc->panic_jmp;  // the BSP's run-level target, if this is the BSP
  pc->panic_jmp = t.context.started ? &t.panic_jmp : nullptr;  // thread_entry arms it first
  kthread_resume(&t.context);
  pc->panic_jmp = outer;
}

void TraceRun::thread_entry(void* arg) {
  ThreadState& t = *static_cast<ThreadState*>(arg);
  TraceRun* run = t.run;
  if (kjmp_set(&t.panic_jmp) != 0) {
    run->aborted_ = true;
    Message m;
    m << "core panic: " << percpu()->panic_message;
    run->add_violation("panic", t.index, static_cast<long>(t.next_op)).message = m;
  } else {
    percpu()->panic_jmp = &t.panic_jmp;
    run->thread_body(t);
  }
  t.done = true;
  t.stop = PointKind::kDone;
  t.stop_point = vm::YieldPoint::kCount;
  kthread_exit(&t.context);
}

// Threads whose process exited between their ops end without running again
// (one never started has nothing to unwind).
void TraceRun::reap_killed() {
  for (uint32_t i = 0; i < thread_count_; ++i) {
    ThreadState& t = threads_[i];
    if (!t.killed || t.done || t.in_op) continue;
    if (t.context.started && !t.context.finished) run_segment(t);
    t.done = true;
  }
}

void TraceRun::thread_body(ThreadState& t) {
  const uint64_t n = t.spec->op_count;
  while (t.next_op < n && !t.killed) {
    t.in_op = true;
    const bool ok = run_one(t, t.next_op);
    t.in_op = false;
    ++t.next_op;
    wake(&t);  // an exec or exit may wait for this thread to leave the kernel
    if (!ok) {
      aborted_ = true;
      break;
    }
    if (t.next_op < n && !t.killed) suspend(t, PointKind::kOpEnd, vm::YieldPoint::kCount);
  }
}

void TraceRun::suspend(ThreadState& t, PointKind why, vm::YieldPoint point) {
  t.stop = why;
  t.stop_point = point;
  kthread_suspend(&t.context);
}

void TraceRun::yield_point(vm::YieldPoint point) {
  suspend(*running_, PointKind::kYield, point);
}

void TraceRun::block(const void* channel, const char* what, const vm::Mutex* lock) {
  ThreadState& t = *running_;
  t.blocked_on = channel;
  t.blocked_what = what;
  t.blocked_lock = lock;
  suspend(t, PointKind::kBlocked, vm::YieldPoint::kCount);
}

void TraceRun::wake(const void* channel) {
  for (uint32_t i = 0; i < thread_count_; ++i)
    if (threads_[i].blocked_on == channel) threads_[i].blocked_on = nullptr;
}

// A step the trace cannot take: an input error naming the step, worded as
// the simulator words it (sim/run/trace_scheduler.cpp).
void TraceRun::refuse_step() {
  using replay::StepErrorKind;
  const replay::StepError& e = schedule_.error();
  const ImageStep& s = img_.step(e.step);
  Message m;
  m << "schedule[" << e.step << "]: ";
  if (e.kind == StepErrorKind::kNoSuchThread) {
    m << "no thread named \"?\"";
    refuse_image(m.c_str());
  }
  const char* point = s.kind == ImageStepKind::kUntil ? img_.str(s.point) : "";
  m << "thread \"" << thread_name(threads_[e.thread]) << "\" ";
  switch (e.kind) {
    case StepErrorKind::kNotRunnable:
      why_not_runnable(m, threads_[e.thread]);
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
  refuse_image(m.c_str());
}

void TraceRun::why_not_runnable(Message& m, const ThreadState& t) const {
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

// No thread can run but some have not finished: name who waits for what
// (sim/run/runner.cpp report_deadlock, the same words).
void TraceRun::report_deadlock() {
  Message msg;
  for (uint32_t i = 0; i < thread_count_; ++i) {
    const ThreadState& t = threads_[i];
    if (t.done || (t.killed && !t.in_op)) continue;
    if (waits_for_label(t)) {
      const ImageOp& op = img_.thread_op(t.index, t.next_op);
      Message m;
      m << "threads[" << t.index << "].ops[" << t.next_op << "] (line " << op.line << "): label @"
        << img_.str(img_.label(op.addr_label).name) << " is never bound by any mmap";
      refuse_image(m.c_str());
    }
    if (msg.size() != 0) msg << "; ";
    msg << "thread \"" << thread_name(t) << "\" ";
    if (t.waiting_fork) {
      msg << "waits for its process \"" << process_name(t.spec->process)
          << "\", and no fork left to run creates it";
    } else if (t.blocked_lock != nullptr && t.blocked_on == t.blocked_lock) {
      const uint32_t owner = t.blocked_lock->owner;
      msg << "waits for lock \"" << t.blocked_what << "\"";
      if (owner != vm::Mutex::kUnowned && owner <= thread_count_)
        msg << " held by thread \"" << thread_name(threads_[owner - 1]) << "\"";
    } else {
      msg << "waits for " << (t.blocked_what != nullptr ? t.blocked_what : "?");
    }
  }
  if (msg.size() == 0) return;  // every thread finished: the run is over
  aborted_ = true;
  add_violation("deadlock", -1, -1).message = msg;
}

// exec and exit change the whole process: its other threads must first
// leave the kernel (finish the op they are stopped in), as a real kernel
// waits for them to reach the user boundary.
void TraceRun::wait_for_siblings(ThreadState& t) {
  for (;;) {
    const ThreadState* busy = nullptr;
    for (uint32_t i = 0; i < thread_count_; ++i) {
      const ThreadState& o = threads_[i];
      if (&o != &t && o.in_op && o.spec->process == t.spec->process) busy = &o;
    }
    if (busy == nullptr) return;
    block(busy, "another thread of its process to finish its op", nullptr);
  }
}

// The fork that creates `process` ran: its threads may start.
void TraceRun::start_threads_of(uint32_t process, vm::Process* p) {
  for (uint32_t i = 0; i < thread_count_; ++i) {
    if (threads_[i].spec->process != process) continue;
    threads_[i].process = p;
    threads_[i].waiting_fork = false;
  }
}

// exit: the process and all its memory go; its threads run no more ops.
void TraceRun::end_process(uint32_t process) {
  vm::Process* p = kernel_->find_process(process_name(process));
  for (uint32_t i = 0; i < thread_count_; ++i) {
    if (threads_[i].spec->process != process) continue;
    threads_[i].process = nullptr;
    threads_[i].killed = true;
  }
  if (p != nullptr) vm::sys_exit(*kernel_, *p);
}

uint64_t TraceRun::resolve(uint32_t t, uint64_t op_index, const ImageOp& op) {
  if (op.addr_label == kNone) return op.addr;
  if (!label_bound_[op.addr_label]) {
    Message m;
    m << "threads[" << t << "].ops[" << op_index << "] (line " << op.line << "): label @"
      << img_.str(img_.label(op.addr_label).name) << " is used before any mmap bound it";
    refuse_image(m.c_str());
  }
  return labels_[op.addr_label] + op.addr;
}

// One op on the thread's kernel thread; false when a violation ends the run.
bool TraceRun::run_one(ThreadState& t, uint64_t op_index) {
  const ImageOp& op = img_.thread_op(t.index, op_index);
  uint64_t addr = 0;
  switch (op.kind) {
    case ImageOpKind::kMmap:
      addr = (op.flags & kHasAddr) ? resolve(t.index, op_index, op) : 0;
      break;
    case ImageOpKind::kPoke:
      if (kernel_->find_process(process_name(op.process)) != nullptr)
        addr = resolve(t.index, op_index, op);
      break;
    case ImageOpKind::kMunmap:
    case ImageOpKind::kMprotect:
    case ImageOpKind::kMadvise:
    case ImageOpKind::kBrk:
    case ImageOpKind::kRead:
    case ImageOpKind::kWrite:
    case ImageOpKind::kTouch:
      addr = resolve(t.index, op_index, op);
      break;
    default:
      break;
  }
  ++ops_;
  if (!first_op_seen_) {
    first_op_seen_ = true;
    Message m;
    m << "first-op " << rdtsc();
    info(m.c_str());
  }
  const Outcome out = core_op(t, op, addr);
  if (aborted_) return false;
  if (op.kind == ImageOpKind::kMmap && out.status == vm::Status::kOk && op.as_label != kNone) {
    labels_[op.as_label] = out.value;
    label_bound_[op.as_label] = true;
  }
  note_peaks();
  if (out.signal == vm::Signal::kSegv) ++segv_;
  if (out.signal == vm::Signal::kBus) ++bus_;
  const unsigned before = violation_count_;
  compare(t.index, op_index, op, out);
  return violation_count_ == before;
}

Outcome TraceRun::core_op(ThreadState& t, const ImageOp& op, uint64_t addr) {
  vm::Kernel& k = *kernel_;
  Outcome out;
  if (op.kind == ImageOpKind::kYield) return out;
  vm::Process& proc = *t.process;
  switch (op.kind) {
    case ImageOpKind::kMmap: {
      vm::MmapArgs args;
      args.has_addr = (op.flags & kHasAddr) != 0;
      args.addr = addr;
      args.len = op.len;
      args.prot = static_cast<vm::Prot>(op.prot);
      args.shared = (op.flags & kShared) != 0;
      args.fixed = (op.flags & kFixed) != 0;
      args.populate = (op.flags & kPopulate) != 0;
      if (op.file != kNone) {
        args.file = img_.str(img_.file(op.file).name);
        args.offset = op.offset;
      }
      out.status = vm::sys_mmap(k, proc, args, &out.value);
      out.has_value = true;
      break;
    }
    case ImageOpKind::kMunmap:
      out.status = vm::sys_munmap(k, proc, addr, op.len);
      break;
    case ImageOpKind::kMprotect:
      out.status = vm::sys_mprotect(k, proc, addr, op.len, static_cast<vm::Prot>(op.prot));
      break;
    case ImageOpKind::kMadvise:
      out.status =
          vm::sys_madvise(k, proc, addr, op.len,
                          (op.flags & kWillneed) ? vm::Advice::kWillNeed : vm::Advice::kDontNeed);
      break;
    case ImageOpKind::kBrk:
      out.status = vm::sys_brk(k, proc, addr, &out.value);
      out.has_value = out.status == vm::Status::kOk;
      break;
    case ImageOpKind::kSbrk:
      out.status = vm::sys_sbrk(k, proc, op.incr, &out.value);
      out.has_value = out.status == vm::Status::kOk;
      break;
    case ImageOpKind::kRead:
      out = user_access(t, false, addr, op.size, 0, 0, 1);
      out.has_value = out.signal == vm::Signal::kNone;
      break;
    case ImageOpKind::kWrite:
      out = user_access(t, true, addr, op.size, op.value, 0, 1);
      break;
    case ImageOpKind::kTouch: {
      // Steps wrap modulo 2^64 like the CPU's address arithmetic; the first
      // one outside user space faults.
      const uint64_t count = op.len == 0 ? 0 : (op.len - 1) / op.stride + 1;
      if (count != 0)
        out = user_access(t, (op.flags & kTouchWrite) != 0, addr, 1, op.value & 0xff, op.stride,
                          count);
      break;
    }
    case ImageOpKind::kPwrite:
      out.status = vm::sys_pwrite(k, img_.str(img_.file(op.file).name), op.offset,
                                  static_cast<uint8_t>(op.value), op.len);
      break;
    case ImageOpKind::kTruncate:
      out.status = vm::sys_truncate(k, img_.str(img_.file(op.file).name), op.file_size);
      break;
    case ImageOpKind::kFork: {
      vm::Process* child = nullptr;
      out.status = vm::sys_fork(k, proc, process_name(op.child), &child);
      if (out.status == vm::Status::kOk) start_threads_of(op.child, child);
      break;
    }
    case ImageOpKind::kExit:
      for (uint32_t i = 0; i < thread_count_; ++i)
        if (threads_[i].spec->process == t.spec->process && &threads_[i] != &t)
          threads_[i].killed = true;
      wait_for_siblings(t);
      end_process(t.spec->process);
      break;
    case ImageOpKind::kExec:
      wait_for_siblings(t);
      out.status = vm::sys_exec(k, proc, {op.text, op.data, op.bss, op.stack});
      break;
    case ImageOpKind::kPoke:
      out.status = vm::sys_poke(k, process_name(op.process), addr, op.size, op.value);
      break;
    default:
      kpanic("op not supported by the port (the image check let it through)");
  }
  return out;
}

// Lazy TLB, as the simulator keeps it: a logical CPU is in the active set of
// the one address space it last ran (shootdowns go where translations may be).
void TraceRun::activate(unsigned cpu, vm::AddressSpace& as) {
  const uint64_t root = as.pmap.root();
  if (cpu_root_[cpu] != root) {
    for (vm::Process* p = kernel_->processes.front(); p != nullptr; p = kernel_->processes.next(p))
      p->as->pmap.active_cpus().remove(cpu);
    cpu_root_[cpu] = root;
  }
  // Also when the root is the same: a new address space may reuse the frame
  // of a destroyed one.
  as.pmap.active_cpus().add(cpu);
}

// One user access on this CPU, in ring 3 on the process's page tables: each
// #PF goes to the core's fault handler, and the access resumes until it
// completes or a signal ends it (sim/run/runner.cpp user_access, step by step).
Outcome TraceRun::user_access(ThreadState& t, bool store, uint64_t addr, uint32_t size,
                              uint64_t value, uint64_t stride, uint64_t count) {
  PerCpu* pc = percpu();
  const unsigned cpu = t.spec->cpu;
  ++accesses_;
  Outcome out;
  vm::UserFault faults;
  for (uint64_t i = 0; i < count;) {
    // Other threads may have run on this CPU while this one was stopped in a
    // fault (and exec may have replaced the address space): load it afresh.
    vm::AddressSpace& as = *t.process->as;
    activate(cpu, as);
    // The TLB may hold this root's translations only for the logical CPU that
    // loaded it; another logical CPU on this physical one starts clean.
    if (read_cr3() != as.pmap.root() || pc->loaded_logical != static_cast<int>(cpu)) {
      write_cr3(as.pmap.root());
      pc->loaded_logical = static_cast<int>(cpu);
    }
    const uint64_t a = addr + i * stride;
    const bool reserved = user_stub_range(a, size);
    Stop stop;
    if (reserved) {
      stop.kind = StopKind::kPageFault;
      stop.fault_addr = a;
      stop.fault_write = store;
    } else {
      stop = user_access_once(store, a, size, value);
    }
    if (stop.kind == StopKind::kDone) {
      out.value = stop.value;
      ++i;
      continue;
    }
    if (stop.kind == StopKind::kGeneralProtection) {
      out.signal = vm::Signal::kSegv;  // a non-canonical address, as on Linux
      out.fault_addr = stop.fault_addr;
      return out;
    }
    const vm::Access kind = stop.fault_write ? vm::Access::kWrite : vm::Access::kRead;
    const vm::FaultResult r = vm::vm_fault(kernel_->vm, as, stop.fault_addr, kind);
    out.signal = vm::UserFault::signal_for(r, reserved);
    if (out.signal != vm::Signal::kNone) {
      out.out_of_memory = r == vm::FaultResult::kNoMem;
      out.fault_addr = stop.fault_addr;
      return out;
    }
    faults.resolved(platform_, stop.fault_addr);
  }
  return out;
}

void TraceRun::describe_op(Message& m, const ImageOp& op) const {
  Message addr;
  if (op.addr_label != kNone) addr << "@" << img_.str(img_.label(op.addr_label).name) << "+";
  addr << vm::Hex{op.addr};
  switch (op.kind) {
    case ImageOpKind::kRead:
      m << "read of " << op.size << " bytes at " << addr.c_str();
      return;
    case ImageOpKind::kWrite:
      m << "write of " << op.size << " bytes at " << addr.c_str();
      return;
    case ImageOpKind::kTouch:
      m << "touch (" << ((op.flags & kTouchWrite) ? "w" : "r") << ") of " << vm::Hex{op.len}
        << " bytes at " << addr.c_str();
      return;
    case ImageOpKind::kMmap:
      m << "mmap of " << vm::Hex{op.len} << " bytes";
      if (op.flags & kHasAddr) m << " at " << addr.c_str();
      return;
    case ImageOpKind::kSbrk:
      m << "sbrk(" << op.incr << ")";
      return;
    case ImageOpKind::kBrk:
      m << "brk(" << addr.c_str() << ")";
      return;
    default:
      m << kImageOpNames[size_t(op.kind)] << " of " << vm::Hex{op.len} << " bytes at "
        << addr.c_str();
  }
}

// The trace's own assertions (op_outcome.cpp compare_outcomes with the core
// as its own model).
void TraceRun::compare(uint32_t t, uint64_t op_index, const ImageOp& op, const Outcome& o) {
  Message what;
  describe_op(what, op);
  const long ti = t, oi = static_cast<long>(op_index);
  const vm::Signal want_signal = op.expect_fault == ImageFault::kSegv  ? vm::Signal::kSegv
                                 : op.expect_fault == ImageFault::kBus ? vm::Signal::kBus
                                                                       : vm::Signal::kNone;
  if (is_access(op.kind)) {
    if (want_signal != vm::Signal::kNone) {
      if (o.signal == vm::Signal::kNone) {
        add_violation("missing-fault", ti, oi).message
            << what.c_str() << " completed; the trace expects " << signal_name(want_signal)
            << " (expect_fault)";
        return;
      }
      if (o.signal != want_signal) {
        Message& m = add_violation("unexpected-fault", ti, oi).message;
        m << what.c_str() << " ended with " << signal_name(o.signal) << " at "
          << vm::Hex{o.fault_addr};
        if (o.out_of_memory) m << " (no free frame: machine.memory is exhausted)";
        m << "; the trace expects " << signal_name(want_signal);
        return;
      }
    }
    if (op.kind == ImageOpKind::kRead && (op.flags & kHasValue) && o.signal == vm::Signal::kNone &&
        o.value != op.value)
      add_violation("read-mismatch", ti, oi).message << what.c_str() << " read " << vm::Hex{o.value}
                                                     << "; the trace expects " << vm::Hex{op.value};
    return;
  }
  const vm::Status want = op.result == ImageResult::kEnomem   ? vm::Status::kNoMem
                          : op.result == ImageResult::kEinval ? vm::Status::kInval
                          : op.result == ImageResult::kEfault ? vm::Status::kFault
                                                              : vm::Status::kOk;
  if ((op.flags & kResultGiven) && o.status != want) {
    add_violation("state-mismatch", ti, oi).message
        << what.c_str() << " returned " << status_name(o.status) << "; the trace expects "
        << status_name(want);
    return;
  }
  if (want_signal != vm::Signal::kNone)
    add_violation("missing-fault", ti, oi).message
        << what.c_str() << " is not a user access, so it cannot end with "
        << signal_name(want_signal);
}

void TraceRun::note_peaks() {
  uint64_t tables = 0;
  for (vm::Process* p = kernel_->processes.front(); p != nullptr; p = kernel_->processes.next(p))
    tables += p->as->pmap.table_pages();
  if (tables > page_table_pages_peak_) page_table_pages_peak_ = tables;
}

// A run that ended with threads stopped inside ops (a violation, a deadlock)
// has locks held and state half changed: only its digest means anything.
void TraceRun::finish() {
  percpu()->logical = 0;
  bool quiescent = true;
  for (uint32_t i = 0; i < thread_count_; ++i) quiescent = quiescent && !threads_[i].in_op;
  if (quiescent && pass()) {
    vm::AuditMessage why;
    if (!vm::audit(*kernel_, why)) {
      add_violation("invariant", -1, -1).message << why.c_str();
      return;
    }
  }
  vm::state_digest(*kernel_, digest_);
  has_digest_ = true;
  collect_stats();
  if (quiescent) check_leaks();
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
    add_violation("leak", -1, -1).message
        << held << " frames and " << objects
        << " kernel objects still held after every process exited";
}

Violation& TraceRun::add_violation(const char* kind, long thread, long op) {
  // Past the table's end the last entry is reused: a run stops at its first
  // violation, so only the final checks can add more.
  Violation& v =
      violations_[violation_count_ < kMaxViolations ? violation_count_++ : kMaxViolations - 1];
  v = Violation{};
  v.kind = kind;
  v.thread = thread;
  v.op = op;
  v.step = static_cast<long>(schedule_.taken_count());  // the step being taken
  return v;
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
  replay::run_stat_values(kernel_->vm, c, stats_);
  has_stats_ = true;
}

void TraceRun::check_expectations() {
  const ImageExpect& e = img_.header().expect;
  auto unmet = [&]() -> Message& {
    Message& m = unmet_[unmet_count_ < kMaxUnmet ? unmet_count_++ : kMaxUnmet - 1];
    m.clear();
    return m;
  };
  const char* result = pass() ? "pass" : "violation";
  if (e.result != ExpectResult::kNone) {
    const char* want = e.result == ExpectResult::kPass ? "pass" : "violation";
    if ((e.result == ExpectResult::kPass) != pass())
      unmet() << "expected result " << want << ", got " << result;
  }
  if (e.violation.len != 0) {
    const char* kind = img_.str(e.violation);
    bool found = false;
    for (unsigned i = 0; i < violation_count_; ++i) {
      const char* a = violations_[i].kind;
      size_t k = 0;
      while (a[k] != '\0' && a[k] == kind[k]) ++k;
      found = found || (a[k] == '\0' && kind[k] == '\0');
    }
    if (!found) unmet() << "expected a " << kind << " violation, got none";
  }
  if (e.has_digest) {
    bool same = has_digest_;
    for (int i = 0; same && i < 64; ++i) same = e.digest[i] == digest_[i];
    if (!same) {
      Message& m = unmet();
      m << "expected digest ";
      m.append(e.digest, 64);
      m << ", got " << (has_digest_ ? digest_ : "none");
    }
  }
  for (uint64_t i = 0; i < img_.count(kExpectStats); ++i) {
    const ImageStat& want = img_.stat(i);
    const char* name = img_.str(want.name);
    for (size_t s = 0; s < replay::kRunStatCount; ++s) {
      if (vm::str_compare(replay::kRunStatNames[s], name) != 0) continue;
      if (static_cast<int64_t>(stats_[s]) != want.value)
        unmet() << "expected stat " << name << " = " << want.value << ", got "
                << static_cast<int64_t>(stats_[s]);
    }
  }
}

// The line `vmsim replay --json` prints (sim/run/report.cpp), key for key.
void TraceRun::print_json() const {
  JsonOut j(1 << 20);
  j.raw("{\"trace\":").str(img_.name());
  j.raw(",\"result\":").str(pass() ? "pass" : "violation");
  j.raw(",\"violations\":[");
  for (unsigned i = 0; i < violation_count_; ++i) {
    const Violation& v = violations_[i];
    if (i != 0) j.raw(",");
    j.raw("{\"kind\":").str(v.kind).raw(",\"message\":").str(v.message.c_str());
    j.raw(",\"thread\":");
    if (v.thread < 0) {
      j.raw("null");
    } else {
      j.str(img_.str(img_.thread(v.thread).name));
    }
    j.raw(",\"op\":");
    if (v.op < 0) {
      j.raw("null");
    } else {
      j.num(v.op);
    }
    j.raw(",\"step\":");
    if (v.step < 0) {
      j.raw("null");
    } else {
      j.num(v.step);
    }
    j.raw("}");
  }
  j.raw("],\"stats\":{");
  for (size_t i = 0; has_stats_ && i < replay::kRunStatCount; ++i) {
    if (i != 0) j.raw(",");
    j.str(replay::kRunStatNames[i]).raw(":").num(stats_[i]);
  }
  j.raw("},\"digest\":");
  if (has_digest_) {
    j.str(digest_);
  } else {
    j.raw("null");
  }
  j.raw(",\"schedule\":[");
  for (size_t i = 0; i < schedule_.taken_count(); ++i) {
    const replay::LoggedStep& s = schedule_.taken(i);
    if (i != 0) j.raw(",");
    j.raw("{\"thread\":").str(thread_name(threads_[s.thread]));
    switch (s.kind) {
      case replay::StepKind::kOps:
        j.raw(",\"ops\":").num(s.ops);
        break;
      case replay::StepKind::kUntil:
        j.raw(",\"until\":").str(replay::yield_point_name(s.point));
        j.raw(",\"count\":").num(s.count);
        break;
      case replay::StepKind::kRun:
        break;
    }
    j.raw("}");
  }
  j.raw("]");
  const ImageExpect& e = img_.header().expect;
  if (e.result != ExpectResult::kNone || e.violation.len != 0 || e.has_digest ||
      img_.count(kExpectStats) != 0) {
    j.raw(",\"expect\":{\"met\":").raw(unmet_count_ == 0 ? "true" : "false");
    j.raw(",\"unmet\":[");
    for (unsigned i = 0; i < unmet_count_; ++i) {
      if (i != 0) j.raw(",");
      j.str(unmet_[i].c_str());
    }
    j.raw("]}");
  }
  j.raw("}");
  j.emit();
}

}  // namespace

ExitCode run_trace(const ImageReader& image) {
  auto* run = new (boot_alloc(sizeof(TraceRun), 64)) TraceRun(image);
  return run->run();
}

}  // namespace port
