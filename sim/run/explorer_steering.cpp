#include "run/explorer_steering.hpp"

#include <algorithm>

#include "sched/yield_point_named.hpp"
#include "vm/vm_map.hpp"

namespace vmsim {
namespace {

// Resource ids for partial-order reduction (Footprint): kinds in the top
// byte, a deterministic value below (never a host address).
constexpr uint64_t kResourceGlobal = 1;
// A kernel structure in simulated memory, by its physical address: a lock
// (and the object it guards), a pmap, a sleep channel.
constexpr uint64_t kResourceObject = uint64_t{1} << 56;
// A kernel structure outside simulated memory (the Vm's own locks), by name.
constexpr uint64_t kResourceNamed = uint64_t{2} << 56;
// A frame: its bytes and its descriptor (busy word, reverse-map count).
constexpr uint64_t kResourceFrame = uint64_t{3} << 56;
constexpr uint64_t kResourceFile = uint64_t{4} << 56;
constexpr uint64_t kResourceLabel = uint64_t{5} << 56;
// What trace CPU n caches: its TLB, and which root it runs.
constexpr uint64_t kResourceCpu = uint64_t{6} << 56;
// Every pmap's set of active CPUs (a CPU switch rewrites them all).
constexpr uint64_t kResourceActiveSets = uint64_t{7} << 56;
constexpr uint64_t kValueMask = (uint64_t{1} << 56) - 1;

uint64_t name_hash(const char* name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: stable on every machine
  for (const char* c = name; *c != '\0'; ++c)
    h = (h ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
  return h & kValueMask;
}

}  // namespace

ExplorerSteering::ExplorerSteering(ScheduleController& controller, replay::Replay& replay,
                                   SimPlatform& platform, uint64_t memory)
    : controller_(controller),
      replay_(replay),
      platform_(platform),
      memory_(memory),
      fault_file_(replay.thread_count()),
      page_array_bytes_((memory / vm::kPageSize) * sizeof(vm::Page)) {}

size_t ExplorerSteering::choose(const replay::SchedulePoint& sp) {
  point_.index = points_++;
  point_.current = sp.current;
  point_.kind = sp.kind;
  point_.point = sp.kind == PointKind::kYield ? replay::yield_point_name(sp.point) : nullptr;
  point_.enabled.assign(sp.enabled, sp.enabled + sp.enabled_count);
  point_.preemptible = sp.kind == PointKind::kYield && sp.current >= 0 &&
                       sp.is_enabled(static_cast<size_t>(sp.current));
  return controller_.choose(point_);
}

// A structure in simulated memory is named by its physical address, the same
// in every run of one schedule prefix; a page descriptor names its frame
// (the descriptors fill the start of memory, Frame i at i * sizeof(Page)).
// 0 outside simulated memory.
uint64_t ExplorerSteering::resource_of(const void* p) const {
  const auto* b = static_cast<const uint8_t*>(p);
  const uint8_t* base = platform_.phys(0);
  if (b < base || b >= base + memory_) return 0;
  const auto offset = static_cast<uint64_t>(b - base);
  if (offset < page_array_bytes_) return kResourceFrame | (offset / sizeof(vm::Page)) << 12;
  return kResourceObject | offset;
}

void ExplorerSteering::segment_begin(size_t thread) {
  footprint_ = Footprint{};
  footprint_.read(kResourceGlobal);
  // A fault on a file mapping works on the file's object through every
  // segment it spans.
  if (fault_file_[thread] != 0) footprint_.write(fault_file_[thread]);
}

void ExplorerSteering::op_begin(size_t thread, size_t op_index, uint64_t) {
  const image::ImageReader& img = replay_.trace();
  const image::ImageOp& op = img.thread_op(thread, op_index);
  // Footprint (DPOR): an op on a label depends on the mmap that bound it.
  if (op.addr_label != image::kNone) footprint_.read(kResourceLabel | op.addr_label);
  switch (op.kind) {
    case image::ImageOpKind::kFork:
    case image::ImageOpKind::kExec:
    case image::ImageOpKind::kExit:
    case image::ImageOpKind::kPoke:
    case image::ImageOpKind::kTruncate:
    case image::ImageOpKind::kPwrite:
    // The block cache is one LRU for every process: a put may make pageout
    // forget another process's block.
    case image::ImageOpKind::kCachePut:
    case image::ImageOpKind::kCacheGet:
      footprint_.write(kResourceGlobal);
      break;
    case image::ImageOpKind::kMmap:
      if (op.file != image::kNone)
        footprint_.write(kResourceFile | name_hash(img.str(img.file(op.file).name)));
      break;
    default:
      break;
  }
}

void ExplorerSteering::op_end(size_t thread, size_t op_index, const replay::Outcome& outcome) {
  const image::ImageOp& op = replay_.trace().thread_op(thread, op_index);
  // Footprint (DPOR): an mmap with `as` binds the label.
  if (op.kind == image::ImageOpKind::kMmap && op.as_label != image::kNone &&
      outcome.status == vm::Status::kOk)
    footprint_.write(kResourceLabel | op.as_label);
}

void ExplorerSteering::fault_begin(size_t thread, vm::AddressSpace& as, uint64_t addr, bool) {
  const vm::Region* region = vm::vm_map_lookup(as, addr);
  if (region == nullptr || region->file == nullptr) return;
  fault_file_[thread] = kResourceFile | name_hash(region->file->name);
  footprint_.write(fault_file_[thread]);
}

void ExplorerSteering::fault_end(size_t thread, const replay::UserAccess&, uint64_t,
                                 vm::FaultResult, bool) {
  fault_file_[thread] = 0;
}

// A user access reads its address space's translations (the pmap, and the
// TLB of its CPU), through which every CPU's page walker also sets A and D
// bits: setting them commutes with another walker's, so that is a read; the
// core's walks of the pmap are writes (Platform::touched). It reads or
// writes each frame it goes through: those mapped when it starts or resumes
// (it may have gone through them before it stopped in a fault) and when it
// is done.
void ExplorerSteering::user_access(size_t thread, vm::AddressSpace& as,
                                   const replay::UserAccess& a) {
  if (const uint64_t r = resource_of(&as.pmap); r != 0) {
    footprint_.read(r);
  } else {
    footprint_.write(kResourceGlobal);
  }
  footprint_.read(kResourceCpu | replay_.thread(thread).spec->cpu);
  probing_ = true;
  uint64_t last = ~uint64_t{0};
  for (uint64_t i = 0; i < a.count; ++i) {
    const uint64_t page = (a.addr + i * a.stride) & ~uint64_t{vm::kPageMask};
    if (page == last) continue;
    last = page;
    if (page >= vm::kUserTop) break;
    vm::paddr_t pa = 0;
    vm::PteAttrs attrs;
    if (!as.pmap.extract(page, &pa, &attrs)) continue;
    if (a.store()) {
      footprint_.write(kResourceFrame | vm::page_trunc(pa));
    } else {
      footprint_.read(kResourceFrame | vm::page_trunc(pa));
    }
  }
  probing_ = false;
}

bool ExplorerSteering::access_begin(size_t thread, vm::AddressSpace& as,
                                    const replay::UserAccess& a) {
  user_access(thread, as, a);
  return true;
}

bool ExplorerSteering::access_resumed(size_t thread, vm::AddressSpace& as,
                                      const replay::UserAccess& a) {
  user_access(thread, as, a);
  return true;
}

void ExplorerSteering::access_done(size_t thread, vm::AddressSpace& as,
                                   const replay::UserAccess& a) {
  user_access(thread, as, a);
}

// A CR3 load drops the CPU's translations and moves it between the active
// sets of every pmap (Replay::activate).
void ExplorerSteering::cpu_switched(unsigned cpu, uint64_t) {
  if (replay_.running() < 0) return;
  footprint_.write(kResourceCpu | cpu);
  footprint_.write(kResourceActiveSets);
}

// A shootdown changes what the CPUs it reaches cache; which ones it reaches
// was read from the active sets.
void ExplorerSteering::invalidated(vm::CpuSet cpus, uint64_t, std::optional<uint64_t>) {
  if (replay_.running() < 0) return;
  footprint_.read(kResourceActiveSets);
  for (unsigned cpu = 0; cpu < vm::CpuSet::kMaxCpus; ++cpu)
    if (cpus.has(cpu)) footprint_.write(kResourceCpu | cpu);
}

// A freed frame may be handed out again: whoever still reaches it (a stale
// translation, a copy in flight) depends on the free.
void ExplorerSteering::frame_freed(uint64_t pa) {
  if (replay_.running() < 0) return;
  footprint_.write(kResourceFrame | vm::page_trunc(pa));
}

// Shared state the core used without a lock that orders it: a write of its
// resource. Outside simulated memory nothing names it: the global resource.
void ExplorerSteering::touched(const void* what) {
  if (replay_.running() < 0 || probing_) return;
  if (const uint64_t r = resource_of(what); r != 0) {
    footprint_.write(r);
  } else {
    footprint_.write(kResourceGlobal);
  }
}

// Kernel objects live in simulated physical memory: their physical address
// is the same in every run of the same schedule prefix. The Vm's own locks
// do not: one lock of each name there.
uint64_t ExplorerSteering::lock_resource(const vm::Mutex& m) const {
  const uint64_t r = resource_of(&m);
  return r != 0 ? r : kResourceNamed | name_hash(m.name());
}

// Taking a lock writes it: the order of two holders is the order in which
// they saw what it guards. A lock whose data are reported by themselves
// (Mutex::data_reported) is only read by a hold that begins and ends in
// one segment (two such holds commute, what they touched says the rest);
// held across a scheduling point it is written (segment_done), so whoever
// would find it held depends on that segment.
void ExplorerSteering::lock_taken(const vm::Mutex& m) {
  if (replay_.running() < 0) return;
  if (m.data_reported()) {
    footprint_.read(lock_resource(m));
    held_.push_back(&m);
  } else {
    footprint_.write(lock_resource(m));
  }
}

// Dropping a lock enables whoever waits for it.
void ExplorerSteering::lock_released(const vm::Mutex& m) {
  if (replay_.running() < 0) return;
  if (m.data_reported()) {
    const auto it = std::find(held_.begin(), held_.end(), &m);
    if (it != held_.end()) {
      held_.erase(it);
      return;
    }
  }
  footprint_.write(lock_resource(m));
}

// The failed attempt depends on the holder.
void ExplorerSteering::lock_contended(const vm::Mutex& m) {
  if (replay_.running() < 0) return;
  footprint_.write(lock_resource(m));
}

void ExplorerSteering::segment_done(size_t thread) {
  for (const vm::Mutex* m : held_) footprint_.write(lock_resource(*m));
  held_.clear();
  controller_.segment_done(thread, footprint_);
}

// A sleep channel inside simulated memory (a lock, a page): the resource of
// the lock at that address. 0 for a channel outside it (a thread's own state,
// whose host address is not the same in every run).
uint64_t ExplorerSteering::channel_resource(const void* channel) const {
  return resource_of(channel);
}

// Footprint (DPOR): a thread that found the lock taken or the page busy
// depends on whoever took and frees it, so that the failed attempt is not
// taken to commute with them.
void ExplorerSteering::blocking(const void* channel) {
  if (replay_.running() < 0) return;
  if (const uint64_t r = channel_resource(channel); r != 0) footprint_.write(r);
}

// Footprint (DPOR): a wakeup (a lock dropped, a page no longer busy) enables
// the sleepers; it is dependent with their attempts.
void ExplorerSteering::waking(const void* channel) {
  if (replay_.running() < 0) return;
  if (const uint64_t r = channel_resource(channel); r != 0) footprint_.write(r);
}

}  // namespace vmsim
