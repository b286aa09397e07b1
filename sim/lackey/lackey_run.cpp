#include "lackey/lackey_run.hpp"

#include <csetjmp>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "lackey/reference_string.hpp"
#include "lackey/replacement.hpp"
#include "machine/machine.hpp"
#include "replay/run_stats.hpp"
#include "run/sim_disk.hpp"
#include "run/sim_platform.hpp"
#include "sys/audit.hpp"
#include "sys/kernel.hpp"
#include "sys/state_digest.hpp"
#include "sys/syscalls.hpp"
#include "vm/pmap.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_map.hpp"

namespace vmsim {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kChunk = 2ull << 20;  // spec §11: the unit the program's memory is mapped in
constexpr uint64_t kProgressEvery = 1 << 20;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// The run's machine and core, and where it is in the log.
class LackeyRun {
 public:
  LackeyRun(LackeyLog& log, const LackeyOptions& options)
      : log_(log),
        options_(options),
        machine_(options.memory, 1),
        disk_(no_files_),
        platform_(machine_, disk_),
        kernel_(std::make_unique<vm::Kernel>(platform_)) {}

  std::variant<LackeyReport, LackeyError> run(const LackeyProgressFn& progress);

 private:
  bool boot();
  bool replay(const LackeyProgressFn& progress);
  bool access(const LackeyAccess& a);
  bool map_chunk(uint64_t chunk, const LackeyAccess& a);
  bool add(uint64_t addr, uint32_t len, uint8_t what, uint8_t value, uint64_t line);
  bool run_batch();
  void note_peaks();
  void finish();
  bool input_error(const LackeyAccess& a, const std::string& what);
  void violation(const char* kind, const std::string& message);
  void oom_kill(const std::string& message);

  LackeyLog& log_;
  const LackeyOptions options_;
  const std::vector<FileSpec> no_files_;
  Machine machine_;
  SimDisk disk_;
  SimPlatform platform_;
  std::unique_ptr<vm::Kernel> kernel_;
  vm::Process* process_ = nullptr;  // nullptr once killed
  bool booted_ = false;
  std::jmp_buf panic_jmp_;

  std::unordered_set<uint64_t> chunks_;  // mapped, by start
  uint64_t last_chunk_ = UINT64_MAX;
  ReferenceString refs_;
  std::vector<bool> faulted_;  // by page id: has taken its first fault
  uint64_t batch_count_ = 0;
  uint64_t batch_lines_[Machine::kBatchCapacity] = {};
  uint64_t page_table_pages_peak_ = 0;
  LackeyReport report_;
  std::optional<LackeyError> error_;
};

bool LackeyRun::boot() {
  const uint64_t reserved = MachineSpec{}.reserved >> 12;
  if (kernel_->boot(options_.memory, reserved, options_.swap / kPage, options_.compressor) !=
      vm::Status::kOk) {
    error_ = LackeyError{
        2, "--memory: the core cannot boot in " + std::to_string(options_.memory) + " bytes"};
    return false;
  }
  kernel_->vm.resident_limit = options_.resident_limit;
  process_ = kernel_->create_process("lackey");
  if (process_ == nullptr) {
    error_ = LackeyError{2, "--memory: no memory to create the process"};
    return false;
  }
  // One CPU runs the one address space for the whole run: it is in the
  // map's active set, so pageout's shootdowns reach its TLB.
  process_->as->pmap.activate(0);
  platform_.set_current(0, 0);
  booted_ = true;
  return true;
}

bool LackeyRun::input_error(const LackeyAccess& a, const std::string& what) {
  error_ = LackeyError{2, report_.log + ":" + std::to_string(a.line) + ": " + what};
  return false;
}

void LackeyRun::violation(const char* kind, const std::string& message) {
  report_.violation_kind = kind;
  report_.violation = message;
}

// Spec §8: the process is killed where it needed the page, as if it ran
// exit there; its memory is released, and the final state has no process.
void LackeyRun::oom_kill(const std::string& message) {
  violation("out-of-memory", message + ": it is killed there");
  vm::sys_oom_kill(*kernel_, *process_);
  process_ = nullptr;
}

// The first access to a 2 MiB-aligned chunk maps it (what the user address
// space allows of it: [kMapMin, kUserTop)).
bool LackeyRun::map_chunk(uint64_t chunk, const LackeyAccess& a) {
  if (!run_batch()) return false;  // the accesses before it see it unmapped
  vm::MmapArgs args;
  args.has_addr = args.fixed = true;
  args.addr = chunk < vm::kMapMin ? vm::kMapMin : chunk;
  const uint64_t end = chunk + kChunk > vm::kUserTop ? vm::kUserTop : chunk + kChunk;
  args.len = end - args.addr;
  args.prot = static_cast<vm::Prot>(vm::kProtRead | vm::kProtWrite);
  vm::vaddr_t start = 0;
  const vm::Status s = vm::sys_mmap(*kernel_, *process_, args, &start);
  if (s == vm::Status::kNoMem) {
    oom_kill("the program ran out of memory mapping " + hex(args.addr) + " at line " +
             std::to_string(a.line));
    return false;
  }
  if (s != vm::Status::kOk) {
    error_ = LackeyError{3, "internal error: mmap of " + hex(args.addr) + " refused"};
    return false;
  }
  chunks_.insert(chunk);
  return true;
}

// One access, split at page boundaries.
bool LackeyRun::access(const LackeyAccess& a) {
  const uint64_t end = a.addr + a.size;
  if (a.addr < vm::kMapMin || end > vm::kUserTop || end < a.addr)
    return input_error(a, "the access " + hex(a.addr) + "," + std::to_string(a.size) +
                              " is outside the user address space [" + hex(vm::kMapMin) + ", " +
                              hex(vm::kUserTop) + ")");
  ++report_.accesses;
  const uint8_t what = a.kind == LackeyAccess::Kind::kLoad ? BatchAccess::kLoad
                       : a.kind == LackeyAccess::Kind::kStore
                           ? BatchAccess::kStore
                           : BatchAccess::kLoad | BatchAccess::kStore;
  // Stores write the low byte of their line number (docs/lackey.md).
  const auto value = static_cast<uint8_t>(a.line);
  for (uint64_t at = a.addr; at < end;) {
    const uint64_t piece_end = (at | (kPage - 1)) + 1 < end ? (at | (kPage - 1)) + 1 : end;
    const uint64_t chunk = at & ~(kChunk - 1);
    if (chunk != last_chunk_) {
      if (chunks_.count(chunk) == 0 && !map_chunk(chunk, a)) return false;
      last_chunk_ = chunk;
    }
    if (!add(at, static_cast<uint32_t>(piece_end - at), what, value, a.line)) return false;
    at = piece_end;
  }
  return true;
}

bool LackeyRun::add(uint64_t addr, uint32_t len, uint8_t what, uint8_t value, uint64_t line) {
  if (refs_.full()) {
    error_ = LackeyError{2, report_.log + ":" + std::to_string(line) +
                                ": more page references than the replacement study can number (" +
                                std::to_string(ReferenceString::kMaxRefs) + ")"};
    return false;
  }
  ++report_.references;
  refs_.reference(addr / kPage);
  BatchAccess& b = machine_.batch()[batch_count_];
  b = BatchAccess{addr, len, what, value, 0};
  batch_lines_[batch_count_] = line;
  if (++batch_count_ == Machine::kBatchCapacity) return run_batch();
  return true;
}

// Runs the batch on CPU 0; each #PF goes to the core's fault handler and the
// batch resumes on the access that faulted.
bool LackeyRun::run_batch() {
  if (batch_count_ == 0) return true;
  vm::Vm& vm = kernel_->vm;
  vm::AddressSpace& as = *process_->as;
  UserContext ctx = machine_.prepare_batch(batch_count_);
  const uint64_t count = batch_count_;
  batch_count_ = 0;
  for (;;) {
    const Stop stop = machine_.run(0, as.pmap.root(), ctx);
    if (stop.kind == StopKind::kDone) break;
    const uint64_t at = count - ctx.r9;  // the access it stopped in
    if (stop.kind != StopKind::kPageFault) {
      error_ = LackeyError{3, "internal error: #GP at " + hex(stop.fault_addr) + " (line " +
                                  std::to_string(batch_lines_[at]) + ")"};
      return false;
    }
    const uint32_t id = refs_.id_of(stop.fault_addr / kPage);
    if (id >= faulted_.size()) faulted_.resize(refs_.distinct_pages(), false);
    if (!faulted_[id]) {
      faulted_[id] = true;
      ++report_.replacement.first_touch_faults;
    }
    const vm::FaultResult r = vm::vm_fault(
        vm, as, stop.fault_addr, stop.fault_write ? vm::Access::kWrite : vm::Access::kRead);
    if (r == vm::FaultResult::kNoMem) {
      oom_kill("the program ran out of memory at line " + std::to_string(batch_lines_[at]) + " (" +
               hex(stop.fault_addr) + ")");
      return false;
    }
    if (r != vm::FaultResult::kResolved) {
      error_ =
          LackeyError{3, "internal error: the core refused the access at " + hex(stop.fault_addr) +
                             " (line " + std::to_string(batch_lines_[at]) + ") in a mapped chunk"};
      return false;
    }
  }
  note_peaks();
  return true;
}

void LackeyRun::note_peaks() {
  if (process_ == nullptr) return;
  const uint64_t tables = process_->as->pmap.table_pages();
  if (tables > page_table_pages_peak_) page_table_pages_peak_ = tables;
}

bool LackeyRun::replay(const LackeyProgressFn& progress) {
  LackeyAccess a;
  uint64_t next_progress = kProgressEvery;
  while (log_.next(&a)) {
    if (!access(a)) {
      report_.lines = log_.lines();  // where it stopped
      return false;
    }
    if (progress && report_.accesses >= next_progress) {
      next_progress += kProgressEvery;
      progress(LackeyProgress{log_.consumed(), log_.file_size(), report_.accesses});
    }
  }
  report_.lines = log_.lines();
  if (!log_.error().empty()) {
    error_ = LackeyError{2, log_.error()};
    return false;
  }
  return run_batch();
}

// The stats, the audit, the digest and the replacement study.
void LackeyRun::finish() {
  vm::Vm& vm = kernel_->vm;
  replay::RunCounters c;
  c.ops = report_.accesses;
  c.accesses = report_.references;
  c.tlb_page_invalidations = platform_.tlb_page_invalidations();
  c.tlb_full_flushes = platform_.tlb_full_flushes();
  c.page_table_pages_peak = page_table_pages_peak_;
  uint64_t values[replay::kRunStatCount];
  replay::run_stat_values(vm, c, values);
  for (size_t i = 0; i < replay::kRunStatCount; ++i)
    report_.stats.emplace_back(replay::kRunStatNames[i], static_cast<int64_t>(values[i]));
  vm::AuditMessage why;
  if (report_.violation_kind.empty() && !vm::audit(*kernel_, why))
    violation("invariant", why.c_str());
  char digest[65];
  vm::state_digest(*kernel_, digest);
  report_.digest = digest;
  if (!report_.violation_kind.empty()) return;

  ReplacementReport& r = report_.replacement;
  report_.has_replacement = true;
  r.distinct_pages = refs_.distinct_pages();
  r.capacity =
      options_.resident_limit != 0 ? options_.resident_limit : vm.stats.resident_user_peak.load();
  r.core_misses = r.first_touch_faults + vm.stats.page_ins.load();
  if (r.capacity == 0) {  // nothing stays: every reference misses
    r.lru_misses = r.opt_misses = report_.references;
  } else {
    r.lru_misses = lru_misses(refs_.refs(), r.distinct_pages, r.capacity);
    r.opt_misses = opt_misses(refs_.refs(), r.distinct_pages, r.capacity);
  }
}

std::variant<LackeyReport, LackeyError> LackeyRun::run(const LackeyProgressFn& progress) {
  report_.log = log_.name();
  kernel_->vm.mutations = options_.mutations;
  platform_.arm_panic(&panic_jmp_);
  // A core panic longjmps here; nothing between owns what needs unwinding.
  if (setjmp(panic_jmp_) != 0) {
    violation("panic", platform_.panic_message());
  } else if (boot()) {
    replay(progress);
  }
  if (error_) return *error_;
  if (booted_ && report_.violation_kind != "panic") {
    if (setjmp(panic_jmp_) != 0) {
      violation("panic", platform_.panic_message());
    } else {
      finish();
    }
  }
  platform_.arm_panic(nullptr);
  return std::move(report_);
}

}  // namespace

std::variant<LackeyReport, LackeyError> run_lackey(LackeyLog& log, const LackeyOptions& options,
                                                   const LackeyProgressFn& progress) {
  try {
    LackeyRun run(log, options);
    return run.run(progress);
  } catch (const std::exception& e) {
    return LackeyError{3, std::string("internal error: ") + e.what()};
  }
}

}  // namespace vmsim
