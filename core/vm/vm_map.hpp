// An address space: the regions mapped in it (Mach's vm_map entries, Linux's
// VMAs) in a balanced tree ordered by start address, and the page tables
// that cache their translations.
#pragma once

#include "lib/atomic.hpp"
#include "lib/avl_tree.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "vm/pmap.hpp"

namespace vm {

class Vm;
class VmObject;
struct BlockCacheOwner;
struct Vnode;
struct Device;
class TlbBatch;

// Fixed layout of every address space (spec §3).
inline constexpr vaddr_t kMapMin = 0x10000;                // nothing is mapped below
inline constexpr vaddr_t kMmapSearchTop = 0x7f0000000000;  // placement limit without a hint
inline constexpr vaddr_t kInitialBreak = 0x10000000;

// What madvise said about large pages for a range (spec §9): MADV_HUGEPAGE,
// MADV_NOHUGEPAGE, or nothing (Linux's VM_HUGEPAGE / VM_NOHUGEPAGE flags).
enum class LargeAdvice : u8 { kNone, kHuge, kNoHuge };

// A mapped range [start, end) of `object`, starting at page `offset` of it.
// Locking: (m) every field is its address space's lock (AddressSpace::lock):
// a Region does not know which map holds it, so the compiler cannot name the
// lock; the functions that use regions REQUIRE the map's lock instead.
struct Region {
  AvlNode node;
  vaddr_t start = 0;  // page-aligned
  vaddr_t end = 0;    // page-aligned, > start
  Prot prot = kProtNone;
  Share share = Share::kPrivate;
  VmObject* object = nullptr;  // holds one reference
  u64 offset = 0;              // object page index that `start` maps
  // A file mapping's file (shared: `object` is its vnode object; private:
  // `object` shadows it) and the file page that `start` maps.
  Vnode* file = nullptr;
  u64 file_page = 0;
  LargeAdvice large_advice = LargeAdvice::kNone;  // kept by clips and forks

  u64 pages() const { return (end - start) >> kPageShift; }
  u64 index_of(vaddr_t va) const { return offset + ((va - start) >> kPageShift); }
  u64 file_page_of(vaddr_t va) const { return file_page + ((va - start) >> kPageShift); }
};

struct RegionStartKey {
  u64 operator()(const Region& r) const { return r.start; }
};

// Locking (docs/locking.md): (m) `lock`, the map lock. Order: a vnode's
// io_lock, then map locks (one at a time), then object locks.
class AddressSpace {
 public:
  // (m) The page tables: every call on them is serialized by the map lock
  // (Pmap's own comment). The machine changes its set of active CPUs on a
  // context switch under this lock too (the port's SMP stress mode takes
  // it; the replay engine, in both machines, switches threads only where
  // they stop, one at a time: Replay::activate).
  Pmap pmap GUARDED_BY(lock);
  // Invariant: regions are page-aligned, non-empty, non-overlapping, and lie
  // within [kMapMin, kUserTop).
  AvlTree<Region, &Region::node, RegionStartKey> regions GUARDED_BY(lock);  // (m)
  // The program break (the heap ends at page_round(brk)) and where it
  // started: brk below brk_start is refused. exec moves both.
  vaddr_t brk GUARDED_BY(lock) = kInitialBreak;        // (m)
  vaddr_t brk_start GUARDED_BY(lock) = kInitialBreak;  // (m)
  // Bumped by every change to the region tree, so a fault that dropped the
  // map lock can tell whether what it looked up is still valid.
  u64 generation GUARDED_BY(lock) = 0;  // (m)
  Mutex lock{"vm_map"};
  // (a) Who keeps the address space alive (Linux's mm_users): its process,
  // until vm_map_destroy, and every thread of another process working on it
  // across a sleep (poke, truncate), through vm_map_hold. The last one to let
  // go tears it down. Holders of other processes come and go on other CPUs
  // without the map lock.
  Atomic<u32> users{1};
  // (m) Set by vm_map_destroy: the process let go; only holders remain.
  bool dying GUARDED_BY(lock) = false;
};

// Creates an empty address space, its process's; nullptr when out of memory.
AddressSpace* vm_map_create(Vm& vm);
// The process lets go of its address space: unless a holder keeps it, it is
// torn down now — every region unmapped and freed, then the page tables,
// all under the map lock (an op that got the lock before sees the space
// whole, one that gets it after finds no region), then the space itself.
void vm_map_destroy(Vm& vm, AddressSpace* as);
// Keep `as` alive across a sleep; vm_map_release may free it (if it died).
void vm_map_hold(Vm& vm, AddressSpace* as);
void vm_map_release(Vm& vm, AddressSpace* as);

// Holds an address space for the lifetime of a scope.
class AddressSpaceHold {
 public:
  AddressSpaceHold(Vm& vm, AddressSpace* as) : vm_(vm), as_(as) { vm_map_hold(vm_, as_); }
  ~AddressSpaceHold() { vm_map_release(vm_, as_); }
  AddressSpaceHold(const AddressSpaceHold&) = delete;
  AddressSpaceHold& operator=(const AddressSpaceHold&) = delete;

 private:
  Vm& vm_;
  AddressSpace* as_;
};

// The region containing `va`, or nullptr.
Region* vm_map_lookup(AddressSpace& as, vaddr_t va) REQUIRES(as.lock);

struct MmapRequest {
  vaddr_t addr = 0;
  bool has_addr = false;
  u64 len = 0;
  Prot prot = kProtNone;
  Share share = Share::kPrivate;
  bool fixed = false;
  bool populate = false;
  Vnode* file = nullptr;     // a file mapping of `file` from byte `offset`
  Device* device = nullptr;  // or a device mapping (shared only) of `device` from `offset`
  u64 offset = 0;
};

// The system calls, with the semantics of spec §3 and docs/semantics.md.
// vm_mmap with `populate` returns kNoMem, the mapping made, when a page
// found no frame (the caller's process is then killed: spec §8). A device
// mapping (spec §10) must be shared (kInval otherwise, as drivers' mmap
// refuse MAP_PRIVATE) and lie within the device (kInval otherwise, /dev/mem's
// valid_mmap_phys_addr_range); the caller checked the privilege.
Status vm_mmap(Vm& vm, AddressSpace& as, const MmapRequest& req, vaddr_t* start_out)
    EXCLUDES(as.lock);
Status vm_munmap(Vm& vm, AddressSpace& as, vaddr_t addr, u64 len) EXCLUDES(as.lock);
Status vm_mprotect(Vm& vm, AddressSpace& as, vaddr_t addr, u64 len, Prot prot) EXCLUDES(as.lock);
enum class Advice : u8 { kDontNeed, kWillNeed, kHugePage, kNoHugePage };
Status vm_madvise(Vm& vm, AddressSpace& as, vaddr_t addr, u64 len, Advice advice) EXCLUDES(as.lock);
// brk; *brk_out (if given) is the break it left, read under the same lock
// (another thread's brk may move it as soon as the lock is dropped).
Status vm_brk(Vm& vm, AddressSpace& as, vaddr_t addr, vaddr_t* brk_out = nullptr) EXCLUDES(as.lock);
Status vm_sbrk(Vm& vm, AddressSpace& as, i64 incr, vaddr_t* old_break) EXCLUDES(as.lock);

// truncate, in two passes over every address space: first unmap every page
// of `file` at or past `first_gone` (a file page index), then discard the
// private copies of those pages (a copy may sit in an object that a fork
// relative maps too, so nothing is freed before every map let go of it).
enum class TruncatePhase : u8 { kUnmap, kDiscard };
// Returns a busy page it met and left in place (the caller waits for it,
// then calls again), else nullptr.
Page* vm_map_truncate_file(Vm& vm, AddressSpace& as, Vnode* file, u64 first_gone,
                           TruncatePhase phase, TlbBatch& batch) REQUIRES(as.lock);

// The block cache's calls (spec §3; vm/block_cache.hpp, vm_map_cache.cpp).
// Both need [addr, addr + length) to be private anonymous memory with `w`:
// kFault for a hole or a page without `w`, kInval for a shared or file
// mapping, an unaligned `addr` or a zero `len`. A put yields the range's
// bytes under `id` (an older block of that id is replaced) and leaves the
// range reading zero; it keeps no block when memory is short. A get of a
// block the owner holds moves it into the range (kHit); kMiss leaves the
// range as it was; any other result leaves the block in the cache.
Status vm_cache_put(Vm& vm, AddressSpace& as, BlockCacheOwner& owner, u64 id, vaddr_t addr, u64 len)
    EXCLUDES(as.lock);
Status vm_cache_get(Vm& vm, AddressSpace& as, BlockCacheOwner& owner, u64 id, vaddr_t addr)
    EXCLUDES(as.lock);

// Fills the empty `child` with a copy of `parent`: shared regions share their
// objects; private regions become copy-on-write, both sides shadowing the
// old object, and the parent's translations lose write permission.
Status vm_map_fork(Vm& vm, AddressSpace& parent, AddressSpace& child)
    EXCLUDES(parent.lock, child.lock);

// Maps [start, start+len) of fresh private anonymous memory with `prot`;
// when `fill` is set every page is created now holding that byte (exec's
// text and data). `start` must be free.
Status vm_map_anonymous_at(Vm& vm, AddressSpace& as, vaddr_t start, u64 len, Prot prot,
                           const u8* fill) EXCLUDES(as.lock);

}  // namespace vm
