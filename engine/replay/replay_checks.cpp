// The run's start and end: boot, the audit, the state digest, the leak
// check, the statistics and the trace's expectations.
#include "image/file_content.hpp"
#include "lib/mem.hpp"
#include "replay/replay.hpp"
#include "sys/audit.hpp"
#include "sys/state_digest.hpp"

namespace replay {

using namespace image;

bool Replay::boot() {
  const ImageHeader& h = trace_.header();
  if (options_.slab_sanity &&
      !kernel_.vm.slab_sanity.enable(kernel_.vm.pages, kernel_.vm.platform)) {
    add_violation("panic", "slab sanity: this machine cannot write-protect its memory", -1, -1);
    return false;
  }
  if (kernel_.boot(h.machine.memory, h.machine.reserved >> vm::kPageShift,
                   h.machine.swap >> vm::kPageShift, h.machine.compressor) != vm::Status::kOk) {
    add_violation("panic", "the core cannot boot in machine.memory", -1, -1);
    return false;
  }
  kernel_.vm.large_pages = static_cast<vm::LargePages>(h.machine.large_pages);
  for (u64 i = 0; i < trace_.count(kFiles); ++i) {
    const char* name = file_name(static_cast<u32>(i));
    if (kernel_.create_file(name, trace_.file(i).size, static_cast<u32>(i)) == nullptr) {
      Text m;
      m << "no memory to create file \"" << name << "\"";
      add_violation("panic", m.c_str(), -1, -1);
      return false;
    }
  }
  if (!boot_devices()) return false;
  for (size_t i = 0; i < thread_count_; ++i) {
    ThreadState& t = threads_[i];
    bool forked = false;  // a fork creates its process: the thread waits for it
    for (u64 k = 0; k < trace_.count(kOps) && !forked; ++k)
      forked = trace_.op(k).kind == ImageOpKind::kFork && trace_.op(k).child == t.spec->process;
    if (forked) {
      t.waiting_fork = true;
      continue;
    }
    const char* name = process_name(t.spec->process);
    t.process = kernel_.find_process(name);
    if (t.process != nullptr) continue;
    t.process = kernel_.create_process(name, trace_.process(t.spec->process).privileged != 0);
    if (t.process == nullptr) {
      Text m;
      m << "no memory to create process \"" << name << "\"";
      add_violation("panic", m.c_str(), -1, -1);
      return false;
    }
  }
  return true;
}

// The devices (spec §10), filled like files at boot (image/file_content.hpp),
// where the machine put them.
bool Replay::boot_devices() {
  for (u64 i = 0; i < trace_.count(kDevices); ++i) {
    const ImageDevice& d = trace_.device(i);
    const char* name = trace_.str(d.name);
    const u64 pa = machine_.device_phys(static_cast<u32>(i));
    if (kernel_.create_device(name, pa, d.size >> vm::kPageShift) == nullptr) {
      Text m;
      m << "cannot create device \"" << name << "\" at physical " << vm::Hex{pa};
      add_violation("panic", m.c_str(), -1, -1);
      return false;
    }
    vm::u8* bytes = kernel_.vm.platform.phys(pa);
    for (u64 off = 0; off < d.size; ++off)
      bytes[off] =
          image::file_content_byte(d.seeded != 0, d.seed, static_cast<vm::u8>(d.fill), off);
  }
  return true;
}

void Replay::panicked(const char* message) {
  Text m;
  m << "core panic: " << message;
  add_violation("panic", m.c_str(), -1, -1);
}

// A run that ended with threads stopped inside ops (a violation, a deadlock)
// has locks held and state half changed: only its digest means anything.
void Replay::finish() {
  if (failed_ || !slab_writes_used(-1, -1)) return;
  bool quiescent = true;
  for (size_t i = 0; i < thread_count_; ++i) quiescent = quiescent && !threads_[i].in_op;
  if (quiescent && pass() && options_.audit != AuditMode::kOff && !audit_now(-1, -1)) return;
  vm::state_digest(kernel_, digest_);
  has_digest_ = true;
  for (size_t i = 0; i < observer_count_; ++i) observers_[i]->finished(digest_);
  // The stats describe the trace, not the teardown the leak check does.
  collect_stats();
  if (!quiescent) return;
  check_leaks();
  slab_writes_used(-1, -1);
}

void Replay::conclude() {
  log_.close();
  if (failed_) return;
  if (!has_stats_) collect_stats();  // a panic cut the run short
  check_expectations();
}

// A write to a slab object without USE() that the machine trapped.
bool Replay::slab_writes_used(long thread, long op) {
  const char* why = kernel_.vm.slab_sanity.violation();
  if (why == nullptr) return true;
  if (!slab_violation_reported_) add_violation("invariant", why, thread, op);
  slab_violation_reported_ = true;
  return false;
}

bool Replay::audit_now(long thread, long op) {
  vm::AuditMessage why;
  if (vm::audit(kernel_, why)) return true;
  add_violation("invariant", why.c_str(), thread, op);
  return false;
}

void Replay::note_peaks() {
  u64 tables = 0;
  for (vm::Process* p = kernel_.processes.front(); p != nullptr; p = kernel_.processes.next(p))
    tables += p->as->pmap.table_pages();
  if (tables > page_table_pages_peak_) page_table_pages_peak_ = tables;
}

// Tear everything down: every frame but the boot-time ones and the slab
// caches' own must come back.
void Replay::check_leaks() {
  kernel_.destroy_all();
  vm::Vm& vm = kernel_.vm;
  u64 held = 0;
  for (u64 pfn = 0; pfn < vm.pages.described_frames(); ++pfn) {
    const vm::Page::State s = vm.pages.page_at(pfn)->state;
    if (s == vm::Page::State::kObject || s == vm::Page::State::kPageTable ||
        s == vm::Page::State::kCache)
      ++held;
  }
  const u64 objects = vm.objects.stats().in_use + vm.regions.stats().in_use +
                      vm.spaces.stats().in_use + kernel_.process_slab.stats().in_use +
                      kernel_.vnode_slab.stats().in_use + kernel_.device_slab.stats().in_use +
                      vm.pv_entries.stats().in_use + vm.swap_entries.stats().in_use;
  const u64 slots = vm.swap.in_use();
  if (held == 0 && objects == 0 && slots == 0) return;
  Text m;
  m << held << " frames, " << objects << " kernel objects and " << slots
    << " swap slots still held after every process exited";
  add_violation("leak", m.c_str(), -1, -1);
}

void Replay::collect_stats() {
  RunCounters c;
  c.ops = ops_;
  c.accesses = accesses_;
  c.signals_segv = segv_;
  c.signals_bus = bus_;
  c.tlb_page_invalidations = machine_.tlb_page_invalidations();
  c.tlb_full_flushes = machine_.tlb_full_flushes();
  c.page_table_pages_peak = page_table_pages_peak_;
  run_stat_values(kernel_.vm, c, stats_);
  has_stats_ = true;
}

bool Replay::has_expectations() const {
  const ImageExpect& e = trace_.header().expect;
  return e.result != ExpectResult::kNone || e.violation.len != 0 || e.has_digest ||
         trace_.count(kExpectStats) != 0;
}

void Replay::check_expectations() {
  const ImageExpect& e = trace_.header().expect;
  const char* result = pass() ? "pass" : "violation";
  if (e.result != ExpectResult::kNone && (e.result == ExpectResult::kPass) != pass()) {
    Text m;
    m << "expected result " << (e.result == ExpectResult::kPass ? "pass" : "violation") << ", got "
      << result;
    unmet(m);
  }
  if (e.violation.len != 0) {
    const char* kind = trace_.str(e.violation);
    bool found = false;
    for (unsigned i = 0; i < violation_count_ && i < kMaxKinds; ++i)
      found = found || vm::str_compare(violation_kinds_[i], kind) == 0;
    if (!found) {
      Text m;
      m << "expected a " << kind << " violation, got none";
      unmet(m);
    }
  }
  if (e.has_digest) {
    bool same = has_digest_;
    for (int i = 0; same && i < 64; ++i) same = e.digest[i] == digest_[i];
    if (!same) {
      Text m;
      m << "expected digest ";
      m.append(e.digest, 64);
      m << ", got " << (has_digest_ ? digest_ : "none");
      unmet(m);
    }
  }
  for (u64 i = 0; i < trace_.count(kExpectStats); ++i) {
    const ImageStat& want = trace_.stat(i);
    const char* name = trace_.str(want.name);
    for (size_t s = 0; s < kRunStatCount; ++s) {
      if (vm::str_compare(kRunStatNames[s], name) != 0) continue;
      if (static_cast<vm::i64>(stats_[s]) == want.value) continue;
      Text m;
      m << "expected stat " << name << " = " << want.value << ", got "
        << static_cast<vm::i64>(stats_[s]);
      unmet(m);
    }
  }
}

}  // namespace replay
