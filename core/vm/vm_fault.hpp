// The page-fault handler: resolves a user access that the MMU refused, or
// says which signal ends it.
#pragma once

#include "lib/types.hpp"
#include "vm/pmap.hpp"
#include "vm/vm_map.hpp"

namespace vm {

class Vm;

enum class FaultResult : u8 {
  kResolved,  // the translation is in place; retry the access
  kSegv,      // no mapping, or the mapping forbids the access
  kBus,       // the mapping exists but its backing page does not
  kNoMem,     // no frame could be had for the page (no pageout yet)
};

FaultResult vm_fault(Vm& vm, AddressSpace& as, vaddr_t va, Access access) EXCLUDES(as.lock);
// The same with the map lock held by the caller, which the fault keeps
// throughout (a copy is made without dropping it); for MAP_POPULATE.
FaultResult vm_fault_map_locked(Vm& vm, AddressSpace& as, vaddr_t va, Access access)
    REQUIRES(as.lock);
// A fault the kernel forces on a process's mapping on its behalf (poke, as
// Linux's get_user_pages calls handle_mm_fault with FOLL_FORCE): a private
// mapping is faulted whatever its protection, so a write makes the mapping's
// own copy through the one copy-on-write path, and a read of a page nothing
// was written to creates the mapping's own zero page (there is nothing else
// the kernel could write). The translation entered has only the rights the
// mapping grants, none under PROT_NONE (then nothing is mapped). A shared
// mapping must allow the access. Not counted as a page fault in the stats.
FaultResult vm_fault_forced(Vm& vm, AddressSpace& as, vaddr_t va, Access access) EXCLUDES(as.lock);

// Whether a mapping with `prot` permits `access` (x86: any present page is
// readable, so write and exec imply read).
bool vm_access_allowed(Prot prot, Access access);

// Whether machine.large_pages and the region's madvise let `va`'s 2 MiB be
// one large page: a private anonymous region that holds all of it (spec §9).
bool large_page_allowed(const Vm& vm, const Region& r, vaddr_t va);

// The PTE rights a mapping with `prot` gets when fully entitled.
PteAttrs pte_attrs_for(Prot prot);

}  // namespace vm
