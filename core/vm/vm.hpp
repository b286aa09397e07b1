// One instance of the VM system: the allocators and counters every VM
// function works with. The core has no globals; everything hangs off this.
#pragma once

#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/mutation.hpp"
#include "vm/page_allocator.hpp"
#include "vm/slab.hpp"
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

  // Memory pressure (spec §8; docs/pressure.md "Stats"). The names in the
  // results are these without the trailing comment.
  u64 resident_user = 0;       // frames holding VmObject pages now (vm_object_insert/remove)
  u64 resident_user_peak = 0;  // the most at once
  u64 oom_kills = 0;           // processes killed for memory (sys_oom_kill)
  // Incremented by the pageout and swap paths (branch `pressure`, issue 10);
  // nothing counts them before that work lands, so they read 0.
  u64 page_ins = 0;               // pages back from swap or the compressor, or re-read from a file
  u64 swap_outs = 0;              // pages written to swap
  u64 compressed_stores = 0;      // pages stored in the compressor
  u64 writebacks = 0;             // dirty file pages written to their file (pageout or sync)
  u64 reclaimed = 0;              // frames freed by pageout
  u64 cache_forgotten = 0;        // block-cache blocks forgotten under pressure
  u64 swap_slots_peak = 0;        // most swap slots in use at once
  u64 compressor_bytes_peak = 0;  // most bytes the compressor held at once

  void resident_user_added() {
    if (++resident_user > resident_user_peak) resident_user_peak = resident_user;
  }
  void resident_user_removed() { --resident_user; }
};

class Vm {
 public:
  explicit Vm(Platform& platform) : platform(platform) {}
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // Takes RAM [0, ram_bytes) and sets up the allocators.
  Status boot(u64 ram_bytes, u64 reserved_frames);

  Platform& platform;
  PageAllocator pages;
  TypedSlab<VmObject> objects;
  TypedSlab<Region> regions;
  TypedSlab<AddressSpace> spaces;
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
