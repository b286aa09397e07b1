// The run loop. Each op goes through the same three steps: perform it in the
// core (over the emulated MMU), perform it in the model, compare. The first
// violation ends the run: after a divergence the two states no longer say
// anything about each other.
#include "run/runner.hpp"

#include <csetjmp>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "lib/types.hpp"
#include "machine/machine.hpp"
#include "model/model.hpp"
#include "run/error_text.hpp"
#include "run/op_outcome.hpp"
#include "run/sim_platform.hpp"
#include "sys/audit.hpp"
#include "sys/kernel.hpp"
#include "sys/state_digest.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"

namespace vmsim {
namespace {

// A fault the core says it resolved but that comes straight back this many
// times means the translation it installed does not allow the access.
constexpr int kMaxRepeatedFaults = 4;

struct ThreadState {
  const ThreadSpec* spec = nullptr;
  vm::Process* process = nullptr;
  uint32_t index = 0;
};

// Unusable input found while running (exit 2), thrown to run_trace.
struct InputErrorAt {
  std::string message;
};

class TraceRun {
 public:
  TraceRun(const Trace& trace, const RunOptions& options)
      : trace_(trace),
        options_(options),
        machine_(trace.machine.memory, trace.machine.cpus),
        disk_(trace.files),
        platform_(machine_, disk_),
        kernel_(std::make_unique<vm::Kernel>(platform_)) {}

  RunReport run();

 private:
  bool boot();
  void run_ops();
  bool run_one(ThreadState& t, size_t op_index);
  OpOutcome core_op(ThreadState& t, const Op& op);
  OpOutcome model_op(ThreadState& t, const Op& op);
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
  Model model_;
  std::vector<ThreadState> threads_;
  std::map<std::string, uint64_t> labels_;  // `as` label → start, from the core's mmap
  std::unique_ptr<OpScheduler> scheduler_;
  std::jmp_buf panic_jmp_;
  bool panicked_ = false;
  RunReport report_;

  uint64_t ops_ = 0, accesses_ = 0, segv_ = 0, bus_ = 0;
  uint64_t page_table_pages_peak_ = 0;
};

RunReport TraceRun::run() {
  report_.trace = trace_.name;
  report_.file = trace_.file;
  report_.has_expect = trace_.expect.result || trace_.expect.violation || trace_.expect.digest ||
                       !trace_.expect.stats.empty();
  scheduler_ = std::make_unique<OpScheduler>(trace_);
  platform_.arm_panic(&panic_jmp_);
  // A core panic longjmps here from inside an op; nothing between owns
  // resources that need unwinding.
  if (setjmp(panic_jmp_) != 0) {
    panicked_ = true;
    add_violation("panic", "core panic: " + platform_.panic_message(), nullptr, -1);
  } else if (boot()) {
    run_ops();
    finish();
  }
  platform_.arm_panic(nullptr);
  report_.schedule = scheduler_->taken();
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
    const std::string& name = t.spec->process;
    if (forked.count(name) != 0) {
      scheduler_->hold(i);
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

void TraceRun::run_ops() {
  for (;;) {
    std::string error;
    std::optional<size_t> t = scheduler_->next(&error);
    if (!error.empty()) {
      const ScheduleStep& s = trace_.schedule.steps[scheduler_->failed_step()];
      throw InputErrorAt{error_at(trace_.file, s.loc, s.path, error)};
    }
    if (!t) {
      if (std::optional<size_t> w = scheduler_->stuck_thread()) {
        const ThreadSpec& th = trace_.threads[*w];
        add_violation("deadlock",
                      "thread \"" + th.name + "\" waits for its process \"" + th.process +
                          "\", and no fork left to run creates it",
                      nullptr, -1);
      }
      return;
    }
    // The scheduler already counted the op as taken.
    if (!run_one(threads_[*t], scheduler_->next_op_of(*t) - 1)) return;
  }
}

bool TraceRun::run_one(ThreadState& t, size_t op_index) {
  const Op& op = t.spec->ops[op_index];
  platform_.set_current(t.spec->cpu, t.index);
  ++ops_;
  const OpOutcome core = core_op(t, op);
  // Without the oracle the core is compared with itself: only the trace's
  // own assertions can fail.
  const OpOutcome model = options_.oracle ? model_op(t, op) : core;
  note_peaks();
  if (core.signal == vm::Signal::kSegv) ++segv_;
  if (core.signal == vm::Signal::kBus) ++bus_;
  if (std::optional<Mismatch> m = compare_outcomes(op, core, model)) {
    add_violation(m->kind, m->message, &t, static_cast<long>(op_index));
    return false;
  }
  if (options_.audit == AuditMode::kEveryOp && !audit_now(&t, static_cast<long>(op_index)))
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
  vm::Vm& vm = kernel_->vm;
  vm::AddressSpace& as = *t.process->as;
  OpOutcome out;
  switch (op.kind) {
    case OpKind::kMmap: {
      vm::MmapRequest req;
      req.has_addr = op.has_addr;
      req.addr = op.has_addr ? resolve(op, op.addr) : 0;
      req.len = op.len;
      req.prot = static_cast<vm::Prot>(op.prot);
      req.share = op.shared ? vm::Share::kShared : vm::Share::kPrivate;
      req.fixed = op.fixed;
      req.populate = op.populate;
      if (!op.file.empty()) {
        req.file = kernel_->find_file(op.file.c_str());
        req.offset = op.offset;
      }
      out.status = vm::vm_mmap(vm, as, req, &out.value);
      out.has_value = true;
      if (out.status == vm::Status::kOk && !op.as.empty()) labels_[op.as] = out.value;
      break;
    }
    case OpKind::kMunmap:
      out.status = vm::vm_munmap(vm, as, resolve(op, op.addr), op.len);
      break;
    case OpKind::kMprotect:
      out.status =
          vm::vm_mprotect(vm, as, resolve(op, op.addr), op.len, static_cast<vm::Prot>(op.prot));
      break;
    case OpKind::kMadvise:
      out.status = vm::vm_madvise(
          vm, as, resolve(op, op.addr), op.len,
          op.advice == Advice::kDontneed ? vm::Advice::kDontNeed : vm::Advice::kWillNeed);
      break;
    case OpKind::kBrk:
      out.status = vm::vm_brk(vm, as, resolve(op, op.addr));
      out.value = as.brk;
      out.has_value = out.status == vm::Status::kOk;
      break;
    case OpKind::kSbrk:
      out.status = vm::vm_sbrk(vm, as, op.incr, &out.value);
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
      out.status = kernel_->pwrite(kernel_->find_file(op.file.c_str()), op.offset,
                                   static_cast<uint8_t>(op.value), op.len);
      break;
    case OpKind::kTruncate:
      out.status = kernel_->truncate(kernel_->find_file(op.file.c_str()), op.file_size);
      break;
    case OpKind::kFork: {
      vm::Process* child = nullptr;
      out.status = kernel_->fork_process(t.process, op.child.c_str(), &child);
      if (out.status == vm::Status::kOk) start_threads_of(op.child, child);
      break;
    }
    case OpKind::kExit:
      end_process(t.spec->process);
      break;
    case OpKind::kExec:
      out.status = kernel_->exec(t.process, {op.text, op.data, op.bss, op.stack});
      break;
    case OpKind::kPoke: {
      vm::Process* target = kernel_->find_process(op.process.c_str());
      out.status = target == nullptr
                       ? vm::Status::kFault
                       : kernel_->poke(target, resolve(op, op.addr), op.size, op.value);
      break;
    }
    case OpKind::kYield:
      break;
    default:
      // check_supported() refused the trace before it ran.
      throw std::logic_error(std::string("op not supported by the runner: ") +
                             op_kind_name(op.kind));
  }
  return out;
}

OpOutcome TraceRun::model_op(ThreadState& t, const Op& op) {
  const std::string& proc = t.spec->process;
  ModelOutcome m;
  switch (op.kind) {
    case OpKind::kMmap: {
      const std::optional<uint64_t> addr =
          op.has_addr ? std::optional<uint64_t>(resolve(op, op.addr)) : std::nullopt;
      m = op.file.empty()
              ? model_.mmap(proc, addr, op.len, op.prot, op.shared, op.fixed, op.populate)
              : model_.mmap_file(proc, addr, op.len, op.prot, op.shared, op.fixed, op.populate,
                                 op.file, op.offset);
      break;
    }
    case OpKind::kPwrite:
      m = model_.pwrite(op.file, op.offset, static_cast<uint8_t>(op.value), op.len);
      break;
    case OpKind::kTruncate:
      m = model_.truncate(op.file, op.file_size);
      break;
    case OpKind::kMunmap:
      m = model_.munmap(proc, resolve(op, op.addr), op.len);
      break;
    case OpKind::kMprotect:
      m = model_.mprotect(proc, resolve(op, op.addr), op.len, op.prot);
      break;
    case OpKind::kMadvise:
      m = model_.madvise(proc, resolve(op, op.addr), op.len, op.advice);
      break;
    case OpKind::kBrk:
      m = model_.brk(proc, resolve(op, op.addr));
      break;
    case OpKind::kSbrk:
      m = model_.sbrk(proc, op.incr);
      break;
    case OpKind::kRead:
      m = model_.read(proc, resolve(op, op.addr), op.size);
      break;
    case OpKind::kWrite:
      m = model_.write(proc, resolve(op, op.addr), op.size, op.value);
      break;
    case OpKind::kTouch:
      m = model_.touch(proc, resolve(op, op.addr), op.len, op.stride, op.touch_write,
                       static_cast<uint8_t>(op.value));
      break;
    case OpKind::kFork:
      m = model_.fork(proc, op.child);
      break;
    case OpKind::kExit:
      m = model_.exit(proc);
      break;
    case OpKind::kExec:
      // The model has no memory limit: an exec the trace says runs out of
      // memory fails there too, and nothing else does.
      m = op.result_given && op.result == ExpectedResult::kEnomem
              ? model_.exec_fails_out_of_memory(proc)
              : model_.exec(proc, op.text, op.data, op.bss, op.stack);
      break;
    case OpKind::kPoke:
      if (model_.has_process(op.process)) {
        m = model_.poke(op.process, resolve(op, op.addr), op.size, op.value);
      } else {
        m.status = vm::Status::kFault;  // no such process (not yet forked, or exited)
      }
      break;
    default:
      break;
  }
  return OpOutcome::from_model(op, m);
}

// One user access on the thread's CPU: run it on the emulated CPU, send each
// #PF to the core's fault handler, resume until it completes or a signal ends it.
OpOutcome TraceRun::user_access(ThreadState& t, const UserAccess& access) {
  vm::AddressSpace& as = *t.process->as;
  const uint32_t cpu = t.spec->cpu;
  as.pmap.active_cpus().add(cpu);
  ++accesses_;
  OpOutcome out;
  UserContext ctx = machine_.prepare(access);

  uint64_t last_fault = 0;
  int repeats = 0;
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
      stop = machine_.run(cpu, as.pmap.root(), ctx);
    }
    if (stop.kind == StopKind::kDone) {
      out.value = stop.value;
      return out;
    }
    if (stop.kind == StopKind::kGeneralProtection) {
      // A non-canonical address: SIGSEGV, as on Linux. The access address is in rdi.
      out.signal = vm::Signal::kSegv;
      out.fault_addr = ctx.rdi;
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
}

// The fork that creates `name` ran: its threads may start.
void TraceRun::start_threads_of(const std::string& name, vm::Process* process) {
  for (ThreadState& t : threads_) {
    if (t.spec->process != name) continue;
    t.process = process;
    scheduler_->release(t.index);
  }
}

// exit: the process and all its memory go; its threads run no more ops.
void TraceRun::end_process(const std::string& name) {
  vm::Process* p = kernel_->find_process(name.c_str());
  for (ThreadState& t : threads_) {
    if (t.spec->process != name) continue;
    t.process = nullptr;
    scheduler_->end(t.index);
  }
  if (p != nullptr) kernel_->destroy_process(p);
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
  if (report_.pass() && options_.audit != AuditMode::kOff && !audit_now(nullptr, -1)) return;
  char hex[65];
  vm::state_digest(*kernel_, hex);
  report_.digest = hex;
  if (report_.pass() && options_.oracle) {
    const std::string expected = model_.digest();
    if (expected != hex)
      add_violation(
          "state-mismatch",
          "final state digest " + std::string(hex) + " differs from the model's " + expected,
          nullptr, -1);
  }
  // The stats describe the trace, not the teardown the leak check does.
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
  v.step = scheduler_->taken().empty() ? -1 : static_cast<long>(scheduler_->taken().size() - 1);
  report_.violations.push_back(std::move(v));
}

void TraceRun::collect_stats() {
  const vm::Vm& vm = kernel_->vm;
  report_.stats = {
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
