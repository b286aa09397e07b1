#include "run/explorer_steering.hpp"

#include "sched/yield_point_named.hpp"
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
constexpr uint64_t kResourceLabel = uint64_t{5} << 56;
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
      family_(replay.trace().count(image::kProcesses)) {
  for (size_t p = 0; p < family_.size(); ++p) family_[p] = static_cast<uint32_t>(p);
}

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

// Processes of one fork family share objects whose reference counts and
// pages the core changes without a common lock (a munmap in the parent can
// make a collapse possible in the child): all their segments are dependent.
uint64_t ExplorerSteering::family_resource(size_t thread) const {
  const image::ImageReader& img = replay_.trace();
  const uint32_t root = family_[replay_.thread(thread).spec->process];
  return kResourceProcess | name_hash(img.str(img.process(root).name));
}

void ExplorerSteering::segment_begin(size_t thread) {
  footprint_ = Footprint{};
  footprint_.read(kResourceGlobal);
  footprint_.write(family_resource(thread));
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

void ExplorerSteering::forked(size_t thread, uint32_t child) {
  family_[child] = family_[replay_.thread(thread).spec->process];
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

// The frames a completed access went through are what its segment touched.
void ExplorerSteering::access_done(size_t, vm::AddressSpace& as, const replay::UserAccess& a) {
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
}

void ExplorerSteering::lock_taken(const vm::Mutex& m) {
  if (replay_.running() < 0) return;
  // Kernel objects live in simulated physical memory: their physical
  // address is the same in every run of the same schedule prefix.
  const auto* p = reinterpret_cast<const uint8_t*>(&m);
  const uint8_t* base = platform_.phys(0);
  const uint64_t offset = p >= base && p < base + memory_ ? static_cast<uint64_t>(p - base)
                                                          : reinterpret_cast<uintptr_t>(p);
  footprint_.write(kResourceLock | (offset & kValueMask));
}

// A sleep channel inside simulated memory (a lock, a page): the resource of
// the lock at that address. 0 for a channel outside it (a thread's own state,
// whose host address is not the same in every run).
uint64_t ExplorerSteering::channel_resource(const void* channel) const {
  const auto* p = static_cast<const uint8_t*>(channel);
  const uint8_t* base = platform_.phys(0);
  if (p < base || p >= base + memory_) return 0;
  return kResourceLock | static_cast<uint64_t>(p - base);
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
