// One instance of the VM system: the allocators and counters every VM
// function works with. The core has no globals; everything hangs off this.
#pragma once

#include "lib/atomic.hpp"
#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/block_cache.hpp"
#include "vm/compressor/compressor.hpp"
#include "vm/delayed_invalidation.hpp"
#include "vm/mutation.hpp"
#include "vm/page_allocator.hpp"
#include "vm/rmap.hpp"
#include "vm/slab.hpp"
#include "vm/slab_sanity.hpp"
#include "vm/swap_pager.hpp"
#include "vm/vm_object.hpp"

namespace vm {

class AddressSpace;
struct Region;

// machine.large_pages (spec §9): which anonymous private memory may be
// mapped by 2 MiB pages at its first fault.
enum class LargePages : u8 { kNever, kAlways, kMadvise };

// Counters reported in a run's stats (docs/result-format.md).
// Locking: (a) atomic: faults in different address spaces bump them at once
// on different CPUs (the port's SMP stress mode), holding no lock in common.
struct VmStats {
  Atomic<u64> faults;            // page faults handled
  Atomic<u64> faults_zero_fill;  // write faults that created a zero-filled page
  Atomic<u64> regions;           // regions in all address spaces now
  Atomic<u64> regions_peak;
  Atomic<u64> cow_copies;      // pages copied by copy-on-write faults
  Atomic<u64> zero_page_maps;  // read faults answered with the shared zero page
  Atomic<u64> collapses;       // backing objects merged into their only child
  Atomic<u64> max_chain;       // longest shadow chain a fault walked

  // Memory pressure (spec §8; docs/pressure.md "Stats"). The names in the
  // results are these without the trailing comment.
  Atomic<u64> resident_user;       // frames holding VmObject pages now (vm_object_insert/remove)
  Atomic<u64> resident_user_peak;  // the most at once
  Atomic<u64> oom_kills;           // processes killed for memory (sys_oom_kill)
  // Counted by pageout and the pagers (docs/pressure.md).
  Atomic<u64> page_ins;           // pages back from swap or the compressor, or re-read from a file
  Atomic<u64> swap_outs;          // pages written to swap
  Atomic<u64> compressed_stores;  // pages stored in the compressor
  Atomic<u64> writebacks;         // dirty file pages written to their file (pageout or sync)
  Atomic<u64> reclaimed;          // frames freed by pageout
  // Times pageout ran (an allocation found no frame, the margin ran low, the
  // `pageout` op): under pressure the block cache may forget, so the oracle
  // accepts a cache_get's miss only once this is non-zero. Not reported.
  Atomic<u64> pageout_passes;
  Atomic<u64> swap_slots_peak;        // most swap slots in use at once
  Atomic<u64> compressor_bytes_peak;  // most bytes the compressor held at once
  // Large pages (spec §9; docs/large-pages.md).
  Atomic<u64> large_pages_mapped;    // 2 MiB mappings made by one page-directory entry
  Atomic<u64> large_page_splits;     // such mappings split into 512 small ones
  Atomic<u64> large_page_fallbacks;  // first faults of an eligible 2 MiB range that got no block

  void resident_user_added() { resident_user_peak.raise_to(resident_user.add(1)); }
  void resident_user_removed() { resident_user.sub(1); }
};

// Locking: (c) set at boot; (l) all_objects_lock, a leaf lock; the
// allocators lock themselves; `stats` as VmStats says.
class Vm {
 public:
  explicit Vm(Platform& platform) : platform(platform) {}
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Takes RAM [0, ram_bytes) and sets up the allocators; `swap_slots`
  // pages of swap (0: none); a compressor of `compressor_bytes` of RAM at
  // most (0: none; its tables are carved from RAM at boot).
  Status boot(u64 ram_bytes, u64 reserved_frames, u64 swap_slots = 0, u64 compressor_bytes = 0);

  Platform& platform;
  PageAllocator pages;
  TypedSlab<VmObject> objects;
  TypedSlab<Region> regions;
  TypedSlab<AddressSpace> spaces;
  TypedSlab<PvEntry> pv_entries;      // the reverse map's entries (vm/rmap.hpp)
  TypedSlab<SwapEntry> swap_entries;  // which object pages are on swap
  // Off unless the machine turns it on before boot (vm/slab_sanity.hpp).
  SlabSanity slab_sanity;
  SwapSpace swap;
  Compressor compressor;   // vm/compressor/compressor.hpp
  BlockCache block_cache;  // vm/block_cache.hpp; locks itself
  // Guards every pv list and every PTE of an object page (vm/rmap.hpp).
  // Order: map lock → object locks → pmap_lock → leaf locks. Its data are
  // reported (a page's pv list and counts under the page, PTEs under their
  // pmap: Platform::touched), so it is no explorer resource by itself.
  Mutex pmap_lock{"pmap", Mutex::Footprint::kDataReported};
  // Batches that removed PTEs of object pages and have not shot them down
  // yet; pageout asks it before freeing a page (vm/delayed_invalidation.hpp).
  DelayedInvalidations delayed_invalidations;
  // Every resident object page, in CLOCK order (vm/pageout.hpp), and its
  // length; a leaf lock.
  List<Page, &Page::queue_node> page_queue;
  u64 page_queue_length = 0;
  Mutex page_queue_lock{"page_queue"};
  // The shared zero page (State::kZero), mapped read-only wherever untouched
  // anonymous memory is read.
  Page* zero_page = nullptr;  // (c)
  // (l) Invariant: every live VmObject, in creation order.
  List<VmObject, &VmObject::all_link> all_objects GUARDED_BY(all_objects_lock);
  // Guards all_objects: objects of different address spaces come and go on
  // different CPUs at once in the port's SMP stress mode. A leaf lock.
  Mutex all_objects_lock{"all_objects", Mutex::Footprint::kUnordered};
  VmStats stats;
  // A memory-cgroup limit: the most frames user pages may hold at once
  // (`vmsim lackey --resident-limit`); 0 for none. Reaching it makes the
  // next user page wait for pageout (vm_reclaim) even with frames free.
  u64 resident_limit = 0;  // (c)
  // A frame for a user page (an object's): refused, like a frame shortage,
  // when resident_limit is reached.
  Page* alloc_user_page();
  Page* alloc_user_page_zeroed();
  // machine.large_pages.
  LargePages large_pages = LargePages::kNever;  // (c)
  // A zero-filled 2 MiB block of frames for 512 user pages
  // (PageAllocator::alloc_block_zeroed), head first; nullptr when none is free, when it would take
  // the resident limit, or when it would leave less than an eighth of RAM free: a large page is
  // taken without reclaim, as Linux's THP fault allocation does (no direct reclaim by default), so
  // it never pushes other memory out.
  Page* alloc_user_block();
  // The huge zero page (Linux's huge zero folio, docs/large-pages.md): a
  // 2 MiB block of 512 frames in State::kZero, mapped read-only by one PS
  // entry wherever a read faults on an eligible, untouched 2 MiB range.
  // Taken at its first use (alloc_user_block's rules), never freed, never
  // paged out; nullptr when no block could be had (the fault falls back).
  Page* huge_zero_block();
  // (a) Set once, by whichever CPU's first use wins; nullptr before.
  Atomic<Page*> huge_zero;
  bool at_resident_limit() const {
    return resident_limit != 0 && stats.resident_user.load() >= resident_limit;
  }
  // Mutation bits (vm/mutation.hpp) the simulator set for a `--bug` run;
  // 0 in every normal run. The port's build defines VM_WITHOUT_MUTATIONS:
  // mutation switches exist in simulator builds only, and the compiler drops
  // every mutated path from the kernel.
  u64 mutations = 0;  // (c)
  bool mutated(Mutation m) const {
#ifdef VM_WITHOUT_MUTATIONS
    (void)m;
    return false;
#else
    return (mutations & mutation_bit(m)) != 0;
#endif
  }
};

}  // namespace vm
