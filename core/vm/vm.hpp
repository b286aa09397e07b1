// One instance of the VM system: the allocators and counters every VM
// function works with. The core has no globals; everything hangs off this.
#pragma once

#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/mutation.hpp"
#include "vm/page_allocator.hpp"
#include "vm/rmap.hpp"
#include "vm/slab.hpp"
#include "vm/swap_pager.hpp"
#include "vm/vm_object.hpp"

namespace vm {

class AddressSpace;
struct Region;

// Counters reported in a run's stats (docs/result-format.md).
struct VmStats {
  u64 faults = 0;            // page faults handled
  u64 faults_zero_fill = 0;  // write faults that created a zero-filled page
  u64 regions = 0;           // regions in all address spaces now
  u64 regions_peak = 0;
  u64 cow_copies = 0;      // pages copied by copy-on-write faults
  u64 zero_page_maps = 0;  // read faults answered with the shared zero page
  u64 collapses = 0;       // backing objects merged into their only child
  u64 max_chain = 0;       // longest shadow chain a fault walked
  // Memory pressure (spec §8).
  u64 page_ins = 0;   // pages read back from swap, or from a file after pageout dropped them
  u64 swap_outs = 0;  // pages written to swap
  u64 compressed_stores = 0;
  u64 writebacks = 0;  // dirty file pages written to their file by pageout
  u64 reclaimed = 0;   // frames freed by pageout
  u64 cache_forgotten = 0;
  u64 oom_kills = 0;
  u64 resident_user_peak = 0;
  u64 swap_slots_peak = 0;
  u64 compressor_bytes_peak = 0;
};

class Vm {
 public:
  explicit Vm(Platform& platform) : platform(platform) {}
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Takes RAM [0, ram_bytes) and sets up the allocators; `swap_slots`
  // pages of swap (0: none).
  Status boot(u64 ram_bytes, u64 reserved_frames, u64 swap_slots = 0);

  Platform& platform;
  PageAllocator pages;
  TypedSlab<VmObject> objects;
  TypedSlab<Region> regions;
  TypedSlab<AddressSpace> spaces;
  TypedSlab<PvEntry> pv_entries;      // the reverse map's entries (vm/rmap.hpp)
  TypedSlab<SwapEntry> swap_entries;  // which object pages are on swap
  SwapSpace swap;
  // Guards every pv list and every PTE of an object page (vm/rmap.hpp).
  // Order: map lock → object locks → pmap_lock → leaf locks.
  Mutex pmap_lock{"pmap"};
  // Every resident object page, in CLOCK order (vm/pageout.hpp), and its
  // length; a leaf lock.
  List<Page, &Page::queue_node> page_queue;
  u64 page_queue_length = 0;
  Mutex page_queue_lock{"page_queue"};
  // The shared zero page (State::kZero), mapped read-only wherever untouched
  // anonymous memory is read.
  Page* zero_page = nullptr;
  // Invariant: every live VmObject, in creation order.
  List<VmObject, &VmObject::all_link> all_objects;
  // Guards all_objects: objects of different address spaces come and go on
  // different CPUs at once in the port's SMP stress mode. A leaf lock.
  Mutex all_objects_lock{"all_objects"};
  VmStats stats;
  // Mutation bits (vm/mutation.hpp) the simulator set for a `--bug` run;
  // 0 in every normal run. The port's build defines VM_WITHOUT_MUTATIONS:
  // mutation switches exist in simulator builds only, and the compiler drops
  // every mutated path from the kernel.
  u64 mutations = 0;
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
