#include "linux/linux_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "linux/linux_digest.hpp"
#include "linux/tracee.hpp"
#include "model/model.hpp"
#include "run/op_outcome.hpp"
#include "sched/schedule_steps.hpp"

namespace vmsim {
namespace {

using linux_run::kAgentEnd;
using linux_run::kAgentPage;
using linux_run::kInitialBreak;
using linux_run::kUserTop;
using linux_run::RealFile;
using linux_run::Tracee;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMapMin = 0x10000;  // spec §3: nothing is mapped below
constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
// Non-zero file content is written for real; a bigger file would be a
// gigabyte-sized write to the temporary directory.
constexpr uint64_t kMaxWrittenContent = uint64_t{256} << 20;
// The statistics a real kernel shows (the others count the core's work).
const std::set<std::string> kLinuxStats = {"ops", "signals_segv", "signals_bus"};

struct InputError {
  std::string message;
};

uint64_t round_page(uint64_t x) {
  return (x + kPage - 1) / kPage * kPage;
}

bool overlaps_agent(uint64_t start, uint64_t end) {
  return start < kAgentEnd && end > kAgentPage;
}

bool in_agent(uint64_t addr) {
  return addr >= kAgentPage && addr < kAgentEnd;
}

// The end of [addr, addr + len rounded up), or false when it reaches 2^64.
bool range_end(uint64_t addr, uint64_t len, uint64_t* end) {
  if (len > kMaxU64 - (kPage - 1)) return false;
  const uint64_t rounded = round_page(len);
  if (rounded > kMaxU64 - addr) return false;
  *end = addr + rounded;
  return true;
}

// A system call's failure as vmsim's result (docs/linux.md, "results").
vm::Status status_of(int64_t r) {
  switch (-r) {
    case ENOMEM:
    case EEXIST:  // MAP_FIXED_NOREPLACE found the spec's place taken
      return vm::Status::kNoMem;
    case EINVAL:
    case EOVERFLOW:  // a file range past 2^63 - 1
    case EPERM:      // below vm.mmap_min_addr
      return vm::Status::kInval;
    case EFAULT:
      return vm::Status::kFault;
  }
  throw std::runtime_error("unexpected error " + std::to_string(-r) + " (" +
                           std::strerror(static_cast<int>(-r)) + ") from a system call");
}

ModelOutcome call_result(int64_t r) {
  ModelOutcome m;
  if (r < 0 && r > -4096) {
    m.status = status_of(r);
  } else {
    m.value = static_cast<uint64_t>(r);
  }
  return m;
}

ModelOutcome with_status(vm::Status s) {
  ModelOutcome m;
  m.status = s;
  return m;
}

ModelOutcome with_signal(vm::Signal s, uint64_t addr) {
  ModelOutcome m;
  m.signal = s;
  m.fault_addr = addr;
  return m;
}

vm::Signal signal_of(int sig) {
  return sig == SIGBUS ? vm::Signal::kBus : vm::Signal::kSegv;
}

std::string where(const Trace& t, const std::string& path) {
  return t.file + ": " + path;
}

class LinuxRun : public replay::ThreadProgress {
 public:
  LinuxRun(const Trace& trace, const LinuxRunOptions& options, std::vector<std::string>* notes)
      : trace_(trace), options_(options), notes_(notes), threads_(trace.threads.size()) {}
  ~LinuxRun() { cleanup(); }

  RunReport run();

  uint64_t ops_left(size_t thread) const override {
    const ThreadState& t = threads_[thread];
    return t.done ? 0 : trace_.threads[thread].ops.size() - t.next_op;
  }

 private:
  struct ThreadState {
    size_t next_op = 0;
    bool done = false;
  };

  void setup();
  void cleanup();
  std::vector<size_t> enabled() const;
  void run_op(size_t thread);
  uint64_t resolve(const Op& op) const;
  ModelOutcome model_op(const std::string& proc, const Op& op, uint64_t addr);
  ModelOutcome linux_op(const std::string& proc, const Op& op, uint64_t addr,
                        const ModelOutcome& model);
  ModelOutcome linux_mmap(Tracee& p, const Op& op, uint64_t addr, const ModelOutcome& model);
  ModelOutcome linux_touch(Tracee& p, const Op& op, uint64_t addr);
  ModelOutcome linux_file_op(const Op& op);
  Tracee& process(const std::string& name);
  const RealFile& file(const std::string& name) const;
  void check_expectations();

  const Trace& trace_;
  const LinuxRunOptions& options_;
  std::vector<std::string>* notes_;
  std::vector<ThreadState> threads_;
  Model model_;
  std::string dir_;
  std::vector<RealFile> files_;  // ascending by name
  std::map<std::string, Tracee> processes_;
  std::map<std::string, uint64_t> labels_;
  RunReport report_;
  int64_t ops_ = 0, segv_ = 0, bus_ = 0;
};

void LinuxRun::setup() {
  std::string base = options_.tmp_base;
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    struct stat st;
    base = env != nullptr && *env != '\0' ? env : stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
  }
  std::string templ = base + "/vmsim-linux-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr)
    throw std::runtime_error("mkdtemp in " + base + ": " + std::strerror(errno));
  dir_ = templ;
  std::vector<FileSpec> specs = trace_.files;
  std::sort(specs.begin(), specs.end(),
            [](const FileSpec& a, const FileSpec& b) { return a.name < b.name; });
  for (const FileSpec& spec : specs) {
    // The loader holds names to [A-Za-z_][A-Za-z0-9_.-]{0,63}: no '/', no "..".
    const std::string path = dir_ + "/" + spec.name;
    RealFile f;
    f.name = spec.name;
    f.fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f.fd < 0) throw std::runtime_error("creating " + path + ": " + std::strerror(errno));
    files_.push_back(f);
    if (ftruncate(f.fd, static_cast<off_t>(spec.size)) != 0)
      throw std::runtime_error("sizing " + path + ": " + std::strerror(errno));
    if (spec.seeded || spec.fill != 0) {
      std::vector<uint8_t> chunk;
      for (uint64_t off = 0; off < spec.size; off += chunk.size()) {
        chunk.resize(std::min<uint64_t>(1 << 20, spec.size - off));
        for (uint64_t i = 0; i < chunk.size(); ++i) {
          const uint64_t pos = off + i;
          chunk[i] = initial_byte(spec, pos);
        }
        if (pwrite(f.fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) !=
            static_cast<ssize_t>(chunk.size()))
          throw std::runtime_error("writing " + path + ": " + std::strerror(errno));
      }
    }
    struct stat st;
    fstat(f.fd, &st);
    files_.back().dev = st.st_dev;
    files_.back().ino = st.st_ino;
    model_.create_file(spec);
  }
  std::set<std::string> forked;
  for (const ThreadSpec& t : trace_.threads)
    for (const Op& op : t.ops)
      if (op.kind == OpKind::kFork) forked.insert(op.child);
  for (const ThreadSpec& t : trace_.threads) {
    if (forked.count(t.process) != 0 || processes_.count(t.process) != 0) continue;
    std::string error;
    std::optional<Tracee> p = Tracee::spawn(&error);
    if (!p) throw std::runtime_error("starting a process for " + t.process + ": " + error);
    processes_.emplace(t.process, std::move(*p));
    model_.create_process(t.process);
  }
}

void LinuxRun::cleanup() {
  processes_.clear();
  for (const RealFile& f : files_) {
    ::close(f.fd);
    ::unlink((dir_ + "/" + f.name).c_str());
  }
  files_.clear();
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  dir_.clear();
}

Tracee& LinuxRun::process(const std::string& name) {
  return processes_.at(name);
}

const RealFile& LinuxRun::file(const std::string& name) const {
  for (const RealFile& f : files_)
    if (f.name == name) return f;
  throw std::logic_error("no file " + name);
}

std::vector<size_t> LinuxRun::enabled() const {
  std::vector<size_t> e;
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (ops_left(i) == 0) continue;
    if (processes_.count(trace_.threads[i].process) == 0) continue;  // not forked yet
    e.push_back(i);
  }
  return e;
}

uint64_t LinuxRun::resolve(const Op& op) const {
  if (!op.addr.is_label()) return op.addr.offset;
  auto it = labels_.find(op.addr.label);
  if (it == labels_.end()) {
    throw InputError{where(trace_, op.path + ".addr") + ": label \"" + op.addr.label +
                     "\" is not bound yet when this op runs"};
  }
  return it->second + op.addr.offset;
}

RunReport LinuxRun::run() {
  report_.trace = trace_.name;
  report_.file = trace_.file;
  setup();
  std::vector<replay::Step> steps;
  for (const ScheduleStep& s : trace_.schedule.steps) {
    replay::Step c;
    c.kind = s.kind == ScheduleStep::Kind::kOps ? replay::StepKind::kOps : replay::StepKind::kRun;
    c.thread = -1;
    for (size_t i = 0; i < trace_.threads.size(); ++i)
      if (trace_.threads[i].name == s.thread) c.thread = static_cast<long>(i);
    c.ops = s.ops;
    steps.push_back(c);
  }
  replay::ScheduleSteps scheduler(steps.data(), steps.size(), trace_.threads.size(),
                                  trace_.schedule.policy == Policy::kSequential
                                      ? replay::Policy::kSequential
                                      : replay::Policy::kRoundRobin,
                                  trace_.schedule.seed);
  replay::SchedulePoint sp;
  for (;;) {
    const std::vector<size_t> e = enabled();
    if (e.empty()) break;
    sp.enabled = e.data();
    sp.enabled_count = e.size();
    const size_t next = scheduler.choose(sp, *this);
    if (scheduler.failed()) {
      const replay::StepError& err = scheduler.error();
      const ScheduleStep& s = trace_.schedule.steps[err.step];
      throw InputError{where(trace_, s.path) + ": this step cannot be taken (thread \"" + s.thread +
                       "\" has no op left to run then)"};
    }
    if (report_.schedule.empty() || report_.schedule.back().thread != trace_.threads[next].name) {
      TakenStep step;
      step.thread = trace_.threads[next].name;
      report_.schedule.push_back(step);
    }
    ++report_.schedule.back().ops;
    run_op(next);
    sp.current = static_cast<long>(next);
    sp.kind = ops_left(next) == 0 ? replay::PointKind::kDone : replay::PointKind::kOpEnd;
  }
  for (size_t i = 0; i < threads_.size(); ++i) {
    if (ops_left(i) == 0) continue;
    report_.violations.push_back(Violation{
        "deadlock", "thread " + trace_.threads[i].name + " waits for a fork that never comes",
        trace_.threads[i].name, static_cast<long>(threads_[i].next_op), -1});
    break;
  }
  report_.digest = linux_run::linux_digest(processes_, files_);
  if (options_.compare && *report_.digest != model_.digest()) {
    report_.violations.push_back(Violation{
        "linux-mismatch",
        "Linux's final state has digest " + *report_.digest + "; the model's is " + model_.digest(),
        "", -1, -1});
  }
  report_.stats = {{"ops", ops_}, {"signals_segv", segv_}, {"signals_bus", bus_}};
  check_expectations();
  return report_;
}

void LinuxRun::check_expectations() {
  const Expectations& e = trace_.expect;
  report_.has_expect = e.result || e.violation || e.digest || !e.stats.empty();
  const std::string result = report_.pass() ? "pass" : "violation";
  if (e.result && *e.result != result)
    report_.unmet.push_back("expected result " + *e.result + ", got " + result);
  if (e.violation) {
    bool found = false;
    for (const Violation& v : report_.violations) found = found || v.kind == *e.violation;
    if (!found) report_.unmet.push_back("expected a " + *e.violation + " violation, got none");
  }
  if (e.digest && report_.digest != *e.digest)
    report_.unmet.push_back("expected digest " + *e.digest + ", got " + *report_.digest);
  for (const auto& [name, want] : e.stats) {
    if (kLinuxStats.count(name) == 0) {
      notes_->push_back(trace_.file + ": expect.stats." + name +
                        " not checked: Linux has no such counter");
      continue;
    }
    for (const auto& [have_name, have] : report_.stats) {
      if (have_name == name && have != want) {
        report_.unmet.push_back("expected stat " + name + " = " + std::to_string(want) + ", got " +
                                std::to_string(have));
      }
    }
  }
}

void LinuxRun::run_op(size_t thread) {
  const ThreadSpec& t = trace_.threads[thread];
  ThreadState& state = threads_[thread];
  const Op& op = t.ops[state.next_op];
  const uint64_t addr = op.addr.is_label() || op.addr.offset != 0 ? resolve(op) : 0;
  const ModelOutcome model = model_op(t.process, op, addr);
  const ModelOutcome lx = linux_op(t.process, op, addr, model);
  const OpOutcome linux_outcome = OpOutcome::from_model(op, lx);
  const OpOutcome reference = options_.compare ? OpOutcome::from_model(op, model) : linux_outcome;
  if (std::optional<Mismatch> m = compare_outcomes(op, linux_outcome, reference)) {
    // Against the model: Linux and vmsim differ. Against the trace alone:
    // Linux does not do what the trace asserts.
    const bool differs = options_.compare && !compare_outcomes(op, linux_outcome, linux_outcome);
    report_.violations.push_back(Violation{
        differs ? "linux-mismatch" : m->kind, "on Linux: " + m->message, t.name,
        static_cast<long>(state.next_op), static_cast<long>(report_.schedule.size()) - 1});
  }
  ++ops_;
  if (lx.signal == vm::Signal::kSegv) ++segv_;
  if (lx.signal == vm::Signal::kBus) ++bus_;
  if (op.kind == OpKind::kMmap && !op.as.empty() && lx.status == vm::Status::kOk)
    labels_[op.as] = lx.value;
  ++state.next_op;
  if (op.kind == OpKind::kExit) {
    for (size_t i = 0; i < threads_.size(); ++i)
      if (trace_.threads[i].process == t.process) threads_[i].done = true;
  }
  if (state.next_op == t.ops.size()) state.done = true;
}

ModelOutcome LinuxRun::model_op(const std::string& proc, const Op& op, uint64_t addr) {
  Model& model = model_;
  switch (op.kind) {
    case OpKind::kMmap: {
      const std::optional<uint64_t> at = op.has_addr ? std::optional<uint64_t>(addr) : std::nullopt;
      return op.file.empty()
                 ? model.mmap(proc, at, op.len, op.prot, op.shared, op.fixed, op.populate)
                 : model.mmap_file(proc, at, op.len, op.prot, op.shared, op.fixed, op.populate,
                                   op.file, op.offset);
    }
    case OpKind::kPwrite:
      return model.pwrite(op.file, op.offset, static_cast<uint8_t>(op.value), op.len);
    case OpKind::kTruncate:
      return model.truncate(op.file, op.file_size);
    case OpKind::kMunmap:
      return model.munmap(proc, addr, op.len);
    case OpKind::kMprotect:
      return model.mprotect(proc, addr, op.len, op.prot);
    case OpKind::kMadvise:
      return model.madvise(proc, addr, op.len, op.advice);
    case OpKind::kBrk:
      return model.brk(proc, addr);
    case OpKind::kSbrk:
      return model.sbrk(proc, op.incr);
    case OpKind::kRead:
      return model.read(proc, addr, op.size);
    case OpKind::kWrite:
      return model.write(proc, addr, op.size, op.value);
    case OpKind::kTouch:
      return model.touch(proc, addr, op.len, op.stride, op.touch_write,
                         static_cast<uint8_t>(op.value));
    case OpKind::kFork:
      return model.fork(proc, op.child);
    case OpKind::kExit:
      return model.exit(proc);
    case OpKind::kPoke:
      if (model.has_process(op.process)) return model.poke(op.process, addr, op.size, op.value);
      return with_status(vm::Status::kFault);
    default:
      return ModelOutcome{};
  }
}

ModelOutcome LinuxRun::linux_op(const std::string& proc, const Op& op, uint64_t addr,
                                const ModelOutcome& model) {
  switch (op.kind) {
    case OpKind::kMmap:
      return linux_mmap(process(proc), op, addr, model);
    case OpKind::kMunmap: {
      const bool valid =
          addr % kPage == 0 && op.len != 0 && addr <= kUserTop && op.len <= kUserTop - addr;
      if (valid && overlaps_agent(addr, addr + round_page(op.len))) {
        // Nothing of the trace is below 0x10000: unmap the part above the
        // agent's page and leave the page (docs/linux.md).
        const uint64_t from = std::max(addr, kAgentEnd), to = addr + round_page(op.len);
        if (to > from) process(proc).syscall(SYS_munmap, from, to - from);
        return with_status(vm::Status::kOk);
      }
      return call_result(process(proc).syscall(SYS_munmap, addr, op.len));
    }
    case OpKind::kMprotect: {
      uint64_t end = 0;
      if (in_agent(addr) && op.len != 0 && range_end(addr, op.len, &end))
        return with_status(vm::Status::kNoMem);  // the page at addr is not the trace's
      return call_result(process(proc).syscall(SYS_mprotect, addr, op.len, op.prot));
    }
    case OpKind::kMadvise: {
      const uint64_t advice = op.advice == Advice::kDontneed     ? MADV_DONTNEED
                              : op.advice == Advice::kHugepage   ? MADV_HUGEPAGE
                              : op.advice == Advice::kNohugepage ? MADV_NOHUGEPAGE
                                                                 : MADV_WILLNEED;
      uint64_t end = 0;
      if (addr % kPage == 0 && op.len != 0 && range_end(addr, op.len, &end) &&
          overlaps_agent(addr, end)) {
        // The part above the agent's page is advised; below it is a hole.
        const uint64_t from = std::max(addr, kAgentEnd);
        if (end > from) process(proc).syscall(SYS_madvise, from, end - from, advice);
        return with_status(vm::Status::kNoMem);
      }
      ModelOutcome m = call_result(process(proc).syscall(SYS_madvise, addr, op.len, advice));
      m.value = 0;
      return m;
    }
    case OpKind::kBrk: {
      const int64_t r = process(proc).syscall(SYS_brk, addr);
      // Linux's brk has no error: it returns the break, unchanged when refused.
      if (static_cast<uint64_t>(r) == addr) return call_result(r);
      return with_status(addr < kInitialBreak ? vm::Status::kInval : vm::Status::kNoMem);
    }
    case OpKind::kSbrk: {
      Tracee& p = process(proc);
      const uint64_t old = static_cast<uint64_t>(p.syscall(SYS_brk, 0));
      uint64_t target = 0;
      if (op.incr < 0) {
        const uint64_t down = uint64_t{0} - static_cast<uint64_t>(op.incr);
        if (down > old) return with_status(vm::Status::kInval);  // below zero, as glibc refuses
        target = old - down;
      } else {
        target = old + static_cast<uint64_t>(op.incr);
      }
      if (static_cast<uint64_t>(p.syscall(SYS_brk, target)) != target)
        return with_status(target < kInitialBreak ? vm::Status::kInval : vm::Status::kNoMem);
      ModelOutcome m;
      m.value = old;
      return m;
    }
    case OpKind::kRead:
    case OpKind::kWrite: {
      if (in_agent(addr)) return with_signal(vm::Signal::kSegv, addr);  // not the trace's page
      Tracee& p = process(proc);
      const linux_run::GadgetResult r =
          op.kind == OpKind::kRead ? p.load(addr, op.size) : p.store(addr, op.size, op.value);
      if (r.faulted) return with_signal(signal_of(r.signal), r.rdi);
      ModelOutcome m;
      if (op.kind == OpKind::kRead)
        m.value = op.size == 8 ? r.rax : r.rax & ((uint64_t{1} << (8 * op.size)) - 1);
      return m;
    }
    case OpKind::kTouch:
      return linux_touch(process(proc), op, addr);
    case OpKind::kPoke: {
      auto it = processes_.find(op.process);
      if (it == processes_.end() || addr >= kUserTop || in_agent(addr))
        return with_status(vm::Status::kFault);
      uint8_t bytes[8];
      for (uint32_t i = 0; i < op.size; ++i) bytes[i] = uint8_t(op.value >> (8 * i));
      return with_status(it->second.poke(addr, bytes, op.size) ? vm::Status::kOk
                                                               : vm::Status::kFault);
    }
    case OpKind::kFork:
      processes_.emplace(op.child, process(proc).fork());
      return ModelOutcome{};
    case OpKind::kExit:
      processes_.erase(proc);  // killed; its memory is released
      return ModelOutcome{};
    case OpKind::kTruncate:
    case OpKind::kPwrite:
      return linux_file_op(op);
    default:
      return ModelOutcome{};  // yield
  }
}

ModelOutcome LinuxRun::linux_mmap(Tracee& p, const Op& op, uint64_t addr,
                                  const ModelOutcome& model) {
  const bool is_file = !op.file.empty();
  const int64_t fd = is_file ? file(op.file).fd : -1;
  const uint64_t offset = is_file ? op.offset : 0;
  const uint64_t flags = (op.shared ? MAP_SHARED : MAP_PRIVATE) | (is_file ? 0 : MAP_ANONYMOUS) |
                         (op.populate ? MAP_POPULATE : 0);
  auto call = [&](uint64_t at, uint64_t extra) {
    return call_result(
        p.syscall(SYS_mmap, at, op.len, op.prot, flags | extra, static_cast<uint64_t>(fd), offset));
  };
  const bool args_ok = offset % kPage == 0 && op.len != 0 && op.len <= kUserTop;
  if (op.fixed) {
    const uint64_t at = op.has_addr ? addr : 0;
    // Linux's floor is vm.mmap_min_addr (and root may go below it); the
    // spec's is 0x10000 (docs/linux.md, "minimum mapping address").
    if (args_ok && at <= kUserTop - round_page(op.len) && at % kPage == 0 && at < kMapMin)
      return with_status(vm::Status::kInval);
    return call(at, MAP_FIXED);
  }
  // The spec places it (docs/linux.md, "placement"): where the model put it.
  if (model.status == vm::Status::kOk) return call(model.value, MAP_FIXED_NOREPLACE);
  if (args_ok && model.status == vm::Status::kNoMem) return with_status(vm::Status::kNoMem);
  return call(op.has_addr ? addr : 0, 0);  // an argument error: Linux's own checks say
}

ModelOutcome LinuxRun::linux_touch(Tracee& p, const Op& op, uint64_t addr) {
  if (op.len == 0) return ModelOutcome{};
  if (in_agent(addr)) return with_signal(vm::Signal::kSegv, addr);
  const uint64_t steps = (op.len - 1) / op.stride + 1;
  // The spec ends a touch with segv where its address would pass 2^64; a
  // register just wraps, so the steps from there are not run (docs/linux.md).
  const uint64_t unwrapped = (kMaxU64 - addr) / op.stride + 1;
  const uint64_t run = std::min(steps, unwrapped);
  const linux_run::GadgetResult r =
      p.touch(addr, run, op.stride, op.touch_write, static_cast<uint8_t>(op.value));
  if (r.faulted) return with_signal(signal_of(r.signal), r.rdi);
  if (run < steps) return with_signal(vm::Signal::kSegv, addr + run * op.stride);
  return ModelOutcome{};
}

ModelOutcome LinuxRun::linux_file_op(const Op& op) {
  const RealFile& f = file(op.file);
  struct stat st;
  if (fstat(f.fd, &st) != 0) throw std::runtime_error("fstat of " + op.file + " failed");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  // The tail rule (docs/linux.md): vmsim zeroes the bytes past the end in
  // the last page whenever the size changes, and only then. Every Linux
  // ftruncate zeroes them, so: one to the same size before a size change,
  // none for a truncate that changes nothing.
  auto zero_tail = [&] {
    if (ftruncate(f.fd, static_cast<off_t>(size)) != 0)
      throw std::runtime_error("ftruncate of " + op.file + " failed");
  };
  if (op.kind == OpKind::kTruncate) {
    if (op.file_size == size) return ModelOutcome{};
    zero_tail();
    if (ftruncate(f.fd, static_cast<off_t>(op.file_size)) != 0)
      return with_status(status_of(-errno));
    return ModelOutcome{};
  }
  if (op.len == 0) return ModelOutcome{};
  if (op.offset + op.len > size) zero_tail();
  std::vector<uint8_t> chunk(std::min<uint64_t>(op.len, 1 << 20), static_cast<uint8_t>(op.value));
  for (uint64_t done = 0; done < op.len;) {
    const uint64_t n = std::min<uint64_t>(chunk.size(), op.len - done);
    const ssize_t w = pwrite(f.fd, chunk.data(), n, static_cast<off_t>(op.offset + done));
    if (w <= 0) return with_status(status_of(-errno));
    done += static_cast<uint64_t>(w);
  }
  return ModelOutcome{};
}

}  // namespace

std::optional<RunError> check_linux_supported(const Trace& trace) {
  auto refuse = [&](const std::string& path, const std::string& why) {
    return RunError{2, where(trace, path) + ": " + why};
  };
  if (trace.machine.swap != 0 || trace.machine.compressor != 0) {
    return refuse("machine",
                  "swap and the compressor are memory pressure, which vmsim linux "
                  "does not reproduce on the host");
  }
  if (!trace.machine.devices.empty()) {
    return refuse(trace.machine.devices.front().path,
                  "device mappings (machine.devices, spec §10) map physical memory that is "
                  "not RAM, which vmsim linux cannot do on the host (it would need /dev/mem)");
  }
  if (trace.expect.violation == "out-of-memory") {
    return refuse("expect.violation",
                  "running out of memory needs machine.memory as the host's limit, and vmsim "
                  "linux runs the trace without one (docs/linux.md)");
  }
  if (trace.schedule.policy == Policy::kRandom) {
    return refuse("schedule.policy",
                  "the random policy picks threads at the core's yield "
                  "points, which the host kernel does not have");
  }
  for (const ScheduleStep& s : trace.schedule.steps) {
    if (s.kind == ScheduleStep::Kind::kUntil) {
      return refuse(s.path,
                    "an \"until\" step stops a thread at a yield point of the core; "
                    "vmsim linux runs whole ops only");
    }
  }
  for (const FileSpec& f : trace.files) {
    if ((f.seeded || f.fill != 0) && f.size > kMaxWrittenContent) {
      return refuse(f.path, "file \"" + f.name + "\" has more non-zero content than vmsim " +
                                "linux writes to a temporary file (256MiB)");
    }
  }
  for (const ThreadSpec& t : trace.threads) {
    for (const Op& op : t.ops) {
      if (op.expect_fault == FaultKind::kOom) {
        return refuse(op.path,
                      "expect_fault \"oom\" needs machine.memory as the host's limit, and "
                      "vmsim linux runs the trace without one (docs/linux.md)");
      }
      switch (op.kind) {
        case OpKind::kExec:
          return refuse(op.path,
                        "op \"exec\" cannot run: the agent process has no image to "
                        "replace (docs/linux.md)");
        case OpKind::kCachePut:
        case OpKind::kCacheGet:
          return refuse(op.path, std::string("op \"") + op_kind_name(op.kind) +
                                     "\" is vmsim's block cache, which Linux does not have");
        case OpKind::kPageout:
          return refuse(op.path,
                        "op \"pageout\" asks vmsim's pageout path, which cannot be "
                        "driven on the host");
        default:
          break;
      }
    }
  }
  return std::nullopt;
}

std::variant<RunReport, RunError> run_on_linux(const Trace& trace, const LinuxRunOptions& options,
                                               std::vector<std::string>* notes) {
  if (std::optional<RunError> e = check_linux_supported(trace)) return *e;
  try {
    LinuxRun run(trace, options, notes);
    return run.run();
  } catch (const InputError& e) {
    return RunError{2, e.message};
  } catch (const std::exception& e) {
    return RunError{3, trace.file + ": on Linux: " + e.what()};
  }
}

}  // namespace vmsim
