#include "trace_runner.hpp"

#include <new>

#include "cpu.hpp"
#include "disk.hpp"
#include "json_out.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "port_platform.hpp"
#include "smp.hpp"
#include "sys/audit.hpp"
#include "sys/kernel.hpp"
#include "sys/state_digest.hpp"
#include "user.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"

namespace port {
namespace {

using namespace vmsim::image;
using Message = vm::FixedString<512>;

// A fault the core says it resolved but that comes straight back this many
// times means the translation it installed does not allow the access.
constexpr int kMaxRepeatedFaults = 4;
constexpr unsigned kMaxViolations = 8;
constexpr unsigned kMaxUnmet = 16;

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

struct ThreadState {
  const ImageThread* spec = nullptr;
  vm::Process* process = nullptr;
};

struct TakenStep {
  uint32_t thread = 0;
  uint64_t ops = 0;
};

const char* status_name(vm::Status s) {
  switch (s) {
    case vm::Status::kOk:
      return "ok";
    case vm::Status::kNoMem:
      return "enomem";
    case vm::Status::kInval:
      return "einval";
    case vm::Status::kFault:
      return "efault";
  }
  return "?";
}

const char* signal_name(vm::Signal s) {
  return s == vm::Signal::kNone ? "none" : s == vm::Signal::kSegv ? "segv" : "bus";
}

bool is_access(ImageOpKind k) {
  return k == ImageOpKind::kRead || k == ImageOpKind::kWrite || k == ImageOpKind::kTouch;
}

// Which thread runs each next op: a port of sim/run/op_scheduler.cpp (steps,
// then round robin or sequential), recording the steps taken.
class Scheduler {
 public:
  explicit Scheduler(const ImageReader& img)
      : img_(img),
        n_(static_cast<uint32_t>(img.count(kThreads))),
        next_op_(boot_alloc_array<uint64_t>(n_)),
        waiting_(boot_alloc_array<bool>(n_)),
        taken_(boot_alloc_array<TakenStep>(img.count(kOps) + 1)) {}

  // The thread to run one op next, or -1 when none; sets `error` on a step
  // the trace cannot take.
  long next(Message* error) {
    if (step_ < img_.count(kSteps) || (step_active_ && step_left_ > 0)) {
      const long t = from_steps(error);
      if (t >= 0 || error->size() != 0) return t;
    }
    step_active_ = false;
    return from_policy();
  }
  void hold(uint32_t t) { waiting_[t] = true; }
  void release(uint32_t t) { waiting_[t] = false; }
  void end(uint32_t t) {
    next_op_[t] = img_.thread(t).op_count;
    if (step_active_ && step_thread_ == t) step_left_ = 0;
  }
  long stuck_thread() const {
    for (uint32_t t = 0; t < n_; ++t)
      if (!finished(t) && waiting_[t]) return t;
    return -1;
  }
  uint64_t next_op_of(uint32_t t) const { return next_op_[t]; }
  uint64_t failed_step() const { return failed_step_; }
  const TakenStep* taken() const { return taken_; }
  uint64_t taken_count() const { return taken_count_; }

 private:
  bool finished(uint32_t t) const { return next_op_[t] >= img_.thread(t).op_count; }
  bool runnable(uint32_t t) const { return !finished(t) && !waiting_[t]; }
  uint64_t remaining(uint32_t t) const { return img_.thread(t).op_count - next_op_[t]; }
  const char* name(uint32_t t) const { return img_.str(img_.thread(t).name); }

  long record(uint32_t t) {
    ++next_op_[t];
    if (taken_count_ > 0 && taken_[taken_count_ - 1].thread == t) {
      ++taken_[taken_count_ - 1].ops;
    } else {
      taken_[taken_count_++] = TakenStep{t, 1};
    }
    return t;
  }

  long from_steps(Message* error) {
    while (!step_active_ || step_left_ == 0) {
      step_active_ = false;
      if (step_ >= img_.count(kSteps)) return -1;
      const ImageStep& s = img_.step(step_);
      failed_step_ = step_;
      const uint32_t t = s.thread;
      if (finished(t)) {
        *error << "thread \"" << name(t) << "\" has finished all its ops";
        return -1;
      }
      if (waiting_[t]) {
        *error << "thread \"" << name(t)
               << "\" cannot run yet: the fork that creates its process \""
               << img_.str(img_.process(img_.thread(t).process).name) << "\" has not run";
        return -1;
      }
      step_thread_ = t;
      if (s.kind == ImageStepKind::kOps) {
        if (s.ops > remaining(t)) {
          *error << "thread \"" << name(t) << "\" has " << remaining(t)
                 << " ops left, the step asks for " << s.ops;
          return -1;
        }
        step_left_ = s.ops;
      } else {
        step_left_ = remaining(t);
      }
      step_active_ = true;
      ++step_;
    }
    --step_left_;
    return record(step_thread_);
  }

  long from_policy() {
    if (img_.header().policy == ImagePolicy::kSequential) {
      for (uint32_t t = 0; t < n_; ++t)
        if (runnable(t)) return record(t);
      return -1;
    }
    for (uint32_t i = 0; i < n_; ++i) {
      const uint32_t t = (rr_next_ + i) % n_;
      if (!runnable(t)) continue;
      rr_next_ = (t + 1) % n_;
      return record(t);
    }
    return -1;
  }

  const ImageReader& img_;
  uint32_t n_;
  uint64_t* next_op_;
  bool* waiting_;
  uint64_t step_ = 0;
  bool step_active_ = false;
  uint32_t step_thread_ = 0;
  uint64_t step_left_ = 0;
  uint32_t rr_next_ = 0;
  uint64_t failed_step_ = 0;
  TakenStep* taken_;
  uint64_t taken_count_ = 0;
};

class TraceRun;

// One op, handed to the CPU that runs it.
struct OpJob {
  TraceRun* run = nullptr;
  uint32_t thread = 0;
  const ImageOp* op = nullptr;
  uint64_t addr = 0;  // the resolved address operand
  Outcome out;
  vm::Process* child = nullptr;  // fork
  bool panicked = false;
};

class TraceRun {
 public:
  explicit TraceRun(const ImageReader& img)
      : img_(img),
        platform_(disk_, img.header().machine.cpus),
        kernel_(new (boot_alloc(sizeof(vm::Kernel), 64)) vm::Kernel(platform_)),
        threads_(boot_alloc_array<ThreadState>(img.count(kThreads))),
        labels_(boot_alloc_array<uint64_t>(img.count(kLabels) + 1)),
        label_bound_(boot_alloc_array<bool>(img.count(kLabels) + 1)),
        sched_(img) {
    disk_.init(img);
  }

  ExitCode run();
  static void exec_job(void* arg);

 private:
  bool boot();
  void run_ops();
  bool run_one(uint32_t t, uint64_t op_index);
  Outcome core_op(ThreadState& t, const ImageOp& op, uint64_t addr, vm::Process** child);
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
  void name_of_process(vm::Process** out, uint32_t process_index) const;

  const ImageReader& img_;
  Disk disk_;
  PortPlatform platform_;
  vm::Kernel* kernel_;
  ThreadState* threads_;
  uint64_t* labels_;
  bool* label_bound_;
  Scheduler sched_;

  Violation violations_[kMaxViolations];
  unsigned violation_count_ = 0;
  Message unmet_[kMaxUnmet];
  unsigned unmet_count_ = 0;
  char digest_[65] = {};
  bool has_digest_ = false;
  bool has_stats_ = false;
  struct Stat {
    const char* name;
    uint64_t value;
  } stats_[15];

  uint64_t ops_ = 0, accesses_ = 0, segv_ = 0, bus_ = 0;
  uint64_t page_table_pages_peak_ = 0;
  bool first_op_seen_ = false;
};

ExitCode TraceRun::run() {
  PerCpu* pc = percpu();
  pc->logical = 0;
  pc->thread = 0;
  KJmpBuf jb;
  // A core panic on this CPU, outside an op (boot, the final checks), comes
  // back here; one inside an op comes back through its job.
  if (kjmp_set(&jb) != 0) {
    Message m;
    m << "core panic: " << pc->panic_message;
    add_violation("panic", -1, -1).message = m;
  } else {
    pc->panic_jmp = &jb;
    if (boot()) {
      run_ops();
      finish();
    }
    pc->panic_jmp = nullptr;
  }
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
  for (uint32_t i = 0; i < img_.count(kThreads); ++i) {
    ThreadState& t = threads_[i];
    t.spec = &img_.thread(i);
    bool forked = false;  // a fork creates the process: the thread waits for it
    for (uint64_t k = 0; k < img_.count(kOps); ++k)
      forked =
          forked || (img_.op(k).kind == ImageOpKind::kFork && img_.op(k).child == t.spec->process);
    if (forked) {
      sched_.hold(i);
      continue;
    }
    const char* name = img_.str(img_.process(t.spec->process).name);
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

void TraceRun::run_ops() {
  for (;;) {
    Message error;
    const long t = sched_.next(&error);
    if (error.size() != 0) {
      Message m;
      m << "schedule[" << sched_.failed_step() << "]: " << error.c_str();
      refuse_image(m.c_str());
    }
    if (t < 0) {
      const long w = sched_.stuck_thread();
      if (w >= 0) {
        const ImageThread& th = img_.thread(w);
        add_violation("deadlock", -1, -1).message
            << "thread \"" << img_.str(th.name) << "\" waits for its process \""
            << img_.str(img_.process(th.process).name) << "\", and no fork left to run creates it";
      }
      return;
    }
    if (!run_one(static_cast<uint32_t>(t), sched_.next_op_of(t) - 1)) return;
  }
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

bool TraceRun::run_one(uint32_t t, uint64_t op_index) {
  ThreadState& ts = threads_[t];
  const ImageOp& op = img_.thread_op(t, op_index);
  OpJob job;
  job.run = this;
  job.thread = t;
  job.op = &op;
  switch (op.kind) {
    case ImageOpKind::kMmap:
      job.addr = (op.flags & kHasAddr) ? resolve(t, op_index, op) : 0;
      break;
    case ImageOpKind::kPoke:
      if (kernel_->find_process(img_.str(img_.process(op.process).name)) != nullptr)
        job.addr = resolve(t, op_index, op);
      break;
    case ImageOpKind::kMunmap:
    case ImageOpKind::kMprotect:
    case ImageOpKind::kMadvise:
    case ImageOpKind::kBrk:
    case ImageOpKind::kRead:
    case ImageOpKind::kWrite:
    case ImageOpKind::kTouch:
      job.addr = resolve(t, op_index, op);
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
  run_on(PortPlatform::physical_cpu(ts.spec->cpu), &TraceRun::exec_job, &job);
  if (job.panicked) {
    Message m;
    m << "core panic: " << cpus[PortPlatform::physical_cpu(ts.spec->cpu)].panic_message;
    add_violation("panic", -1, -1).message = m;
    return false;
  }
  const Outcome& out = job.out;
  if (op.kind == ImageOpKind::kMmap && out.status == vm::Status::kOk && op.as_label != kNone) {
    labels_[op.as_label] = out.value;
    label_bound_[op.as_label] = true;
  }
  if (op.kind == ImageOpKind::kFork && out.status == vm::Status::kOk) {
    for (uint32_t i = 0; i < img_.count(kThreads); ++i) {
      if (threads_[i].spec->process != op.child) continue;
      threads_[i].process = job.child;
      sched_.release(i);
    }
  }
  if (op.kind == ImageOpKind::kExit) {
    for (uint32_t i = 0; i < img_.count(kThreads); ++i) {
      if (threads_[i].spec->process != ts.spec->process) continue;
      threads_[i].process = nullptr;
      sched_.end(i);
    }
  }
  note_peaks();
  if (out.signal == vm::Signal::kSegv) ++segv_;
  if (out.signal == vm::Signal::kBus) ++bus_;
  const unsigned before = violation_count_;
  compare(t, op_index, op, out);
  return violation_count_ == before;
}

// Runs on the CPU that hosts the thread.
void TraceRun::exec_job(void* arg) {
  OpJob* job = static_cast<OpJob*>(arg);
  TraceRun* run = job->run;
  ThreadState& t = run->threads_[job->thread];
  PerCpu* pc = percpu();
  pc->logical = t.spec->cpu;
  pc->thread = job->thread;
  KJmpBuf* const outer = pc->panic_jmp;  // the BSP's run-level target, if this is the BSP
  KJmpBuf jb;
  if (kjmp_set(&jb) != 0) {
    pc->panic_jmp = outer;
    job->panicked = true;
    return;
  }
  pc->panic_jmp = &jb;
  job->out = run->core_op(t, *job->op, job->addr, &job->child);
  pc->panic_jmp = outer;
}

Outcome TraceRun::core_op(ThreadState& t, const ImageOp& op, uint64_t addr, vm::Process** child) {
  vm::Vm& vm = kernel_->vm;
  Outcome out;
  if (op.kind == ImageOpKind::kYield) return out;
  vm::AddressSpace& as = *t.process->as;
  switch (op.kind) {
    case ImageOpKind::kMmap: {
      vm::MmapRequest req;
      req.has_addr = (op.flags & kHasAddr) != 0;
      req.addr = addr;
      req.len = op.len;
      req.prot = static_cast<vm::Prot>(op.prot);
      req.share = (op.flags & kShared) ? vm::Share::kShared : vm::Share::kPrivate;
      req.fixed = (op.flags & kFixed) != 0;
      req.populate = (op.flags & kPopulate) != 0;
      if (op.file != kNone) {
        req.file = kernel_->find_file(img_.str(img_.file(op.file).name));
        req.offset = op.offset;
      }
      out.status = vm::vm_mmap(vm, as, req, &out.value);
      out.has_value = true;
      break;
    }
    case ImageOpKind::kMunmap:
      out.status = vm::vm_munmap(vm, as, addr, op.len);
      break;
    case ImageOpKind::kMprotect:
      out.status = vm::vm_mprotect(vm, as, addr, op.len, static_cast<vm::Prot>(op.prot));
      break;
    case ImageOpKind::kMadvise:
      out.status =
          vm::vm_madvise(vm, as, addr, op.len,
                         (op.flags & kWillneed) ? vm::Advice::kWillNeed : vm::Advice::kDontNeed);
      break;
    case ImageOpKind::kBrk:
      out.status = vm::vm_brk(vm, as, addr);
      out.value = as.brk;
      out.has_value = out.status == vm::Status::kOk;
      break;
    case ImageOpKind::kSbrk:
      out.status = vm::vm_sbrk(vm, as, op.incr, &out.value);
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
      out.status = kernel_->pwrite(kernel_->find_file(img_.str(img_.file(op.file).name)), op.offset,
                                   static_cast<uint8_t>(op.value), op.len);
      break;
    case ImageOpKind::kTruncate:
      out.status =
          kernel_->truncate(kernel_->find_file(img_.str(img_.file(op.file).name)), op.file_size);
      break;
    case ImageOpKind::kFork:
      out.status = kernel_->fork_process(t.process, img_.str(img_.process(op.child).name), child);
      break;
    case ImageOpKind::kExit: {
      vm::Process* p = kernel_->find_process(img_.str(img_.process(t.spec->process).name));
      if (p != nullptr) kernel_->destroy_process(p);
      break;
    }
    case ImageOpKind::kExec:
      out.status = kernel_->exec(t.process, {op.text, op.data, op.bss, op.stack});
      break;
    case ImageOpKind::kPoke: {
      vm::Process* target = kernel_->find_process(img_.str(img_.process(op.process).name));
      out.status =
          target == nullptr ? vm::Status::kFault : kernel_->poke(target, addr, op.size, op.value);
      break;
    }
    default:
      kpanic("op not supported by the port (the image check let it through)");
  }
  return out;
}

// One user access on this CPU, in ring 3 on the process's page tables: each
// #PF goes to the core's fault handler, and the access resumes until it
// completes or a signal ends it (sim/run/runner.cpp user_access, step by step).
Outcome TraceRun::user_access(ThreadState& t, bool store, uint64_t addr, uint32_t size,
                              uint64_t value, uint64_t stride, uint64_t count) {
  vm::AddressSpace& as = *t.process->as;
  PerCpu* pc = percpu();
  const unsigned cpu = t.spec->cpu;
  as.pmap.active_cpus().add(cpu);
  ++accesses_;
  // The TLB may hold this root's translations only for the logical CPU that
  // loaded it; another logical CPU on this physical one starts clean.
  if (read_cr3() != as.pmap.root() || pc->loaded_logical != static_cast<int>(cpu)) {
    write_cr3(as.pmap.root());
    pc->loaded_logical = static_cast<int>(cpu);
  }
  Outcome out;
  uint64_t last_fault = 0;
  int repeats = 0;
  for (uint64_t i = 0; i < count;) {
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
    if (r != vm::FaultResult::kResolved || reserved) {
      out.signal = r == vm::FaultResult::kSegv || r == vm::FaultResult::kResolved
                       ? vm::Signal::kSegv
                       : vm::Signal::kBus;
      out.out_of_memory = r == vm::FaultResult::kNoMem;
      out.fault_addr = stop.fault_addr;
      return out;
    }
    repeats = stop.fault_addr == last_fault ? repeats + 1 : 0;
    last_fault = stop.fault_addr;
    if (repeats >= kMaxRepeatedFaults) {
      vm::FixedString<160> msg;
      msg << "fault at " << vm::Hex{stop.fault_addr} << " resolved " << repeats
          << " times but the access still faults";
      platform_.panic(msg.c_str());
    }
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

void TraceRun::finish() {
  percpu()->logical = 0;
  if (pass()) {
    vm::AuditMessage why;
    if (!vm::audit(*kernel_, why)) {
      add_violation("invariant", -1, -1).message << why.c_str();
      return;
    }
  }
  vm::state_digest(*kernel_, digest_);
  has_digest_ = true;
  collect_stats();
  check_leaks();
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
  v.step = sched_.taken_count() == 0 ? -1 : static_cast<long>(sched_.taken_count() - 1);
  return v;
}

void TraceRun::collect_stats() {
  const vm::Vm& vm = kernel_->vm;
  const Stat s[] = {
      {"ops", ops_},
      {"accesses", accesses_},
      {"faults", vm.stats.faults},
      {"faults_zero_fill", vm.stats.faults_zero_fill},
      {"signals_segv", segv_},
      {"signals_bus", bus_},
      {"tlb_page_invalidations", platform_.tlb_page_invalidations()},
      {"tlb_full_flushes", platform_.tlb_full_flushes()},
      {"frames_peak", vm.pages.stats().peak_in_use},
      {"page_table_pages_peak", page_table_pages_peak_},
      {"regions_peak", vm.stats.regions_peak},
      {"cow_copies", vm.stats.cow_copies},
      {"zero_page_maps", vm.stats.zero_page_maps},
      {"collapses", vm.stats.collapses},
      {"max_chain", vm.stats.max_chain},
  };
  static_assert(sizeof(s) == sizeof(stats_));
  for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); ++i) stats_[i] = s[i];
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
    for (const Stat& have : stats_) {
      size_t k = 0;
      while (have.name[k] != '\0' && have.name[k] == name[k]) ++k;
      if (have.name[k] != '\0' || name[k] != '\0') continue;
      if (static_cast<int64_t>(have.value) != want.value)
        unmet() << "expected stat " << name << " = " << want.value << ", got "
                << static_cast<int64_t>(have.value);
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
  for (size_t i = 0; has_stats_ && i < sizeof(stats_) / sizeof(stats_[0]); ++i) {
    if (i != 0) j.raw(",");
    j.str(stats_[i].name).raw(":").num(stats_[i].value);
  }
  j.raw("},\"digest\":");
  if (has_digest_) {
    j.str(digest_);
  } else {
    j.raw("null");
  }
  j.raw(",\"schedule\":[");
  for (uint64_t i = 0; i < sched_.taken_count(); ++i) {
    const TakenStep& s = sched_.taken()[i];
    if (i != 0) j.raw(",");
    j.raw("{\"thread\":").str(img_.str(img_.thread(s.thread).name));
    j.raw(",\"ops\":").num(s.ops).raw("}");
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
