// The reverse map: for every resident object page, the PTEs that map it
// (FreeBSD's pv entries). Pageout needs it to unmap a page from every
// address space at once — fork families, shared memory, a file page mapped
// by many processes — before the frame is reused.
//
// Locking. Vm::pmap_lock guards every page's `pv` list and every PTE of a
// managed page: the fault path enters a mapping and its pv entry as one
// step under it, unmapping removes both under it, and pageout walks a
// page's list and clears the PTEs it names under it without any map lock
// (it cannot take map locks: it may run for a thread that holds one). It is
// one lock for all pmaps, where FreeBSD has one per pmap plus pv-list locks:
// simple and correct first; docs/pressure.md says why.
// Lock order: map lock → object locks → pmap_lock → leaf locks.
//
// Nothing allocates under pmap_lock: a pv entry is taken from its slab
// before the lock (rmap_prepare) and handed in.
#pragma once

#include "lib/types.hpp"
#include "vm/page.hpp"
#include "vm/pmap.hpp"

namespace vm {

class Vm;
class TlbBatch;

// One PTE that maps a page: which page tables, which address.
struct PvEntry {
  Pmap* pmap = nullptr;
  vaddr_t va = 0;
  PvEntry* next = nullptr;  // the next mapping of the same page (pmap_lock)
};

// A pv entry for the next rmap_enter, or nullptr when no memory is left.
PvEntry* rmap_prepare(Vm& vm);
// Gives back an entry rmap_enter did not use.
void rmap_unprepare(Vm& vm, PvEntry* pv);

// Maps `va` → `page` in `pmap` with `attrs` and records it, replacing what
// `va` mapped before (whose reverse-map entry goes). Takes pmap_lock.
// `pv` (from rmap_prepare) is used when `page` is an object page, freed
// otherwise. kNoMem when a page table could not be allocated (nothing
// changed then, `pv` is freed).
Status rmap_enter(Vm& vm, Pmap& pmap, vaddr_t va, Page* page, PteAttrs attrs, TlbBatch& batch,
                  PvEntry* pv);

// Maps `va` → the frame at `pa`, which is no RAM frame (a device's page,
// vm/device.hpp): an unmanaged PTE, with no pv entry and no map_count, as
// Linux's VM_PFNMAP. Replaces what `va` mapped before like rmap_enter. Takes
// pmap_lock. kNoMem when a page table could not be allocated.
Status rmap_enter_unmanaged(Vm& vm, Pmap& pmap, vaddr_t va, paddr_t pa, PteAttrs attrs,
                            TlbBatch& batch);
// `n` pv entries chained through `next`, or nullptr (none kept) when no
// memory is left; rmap_unprepare_chain gives back what was not used.
PvEntry* rmap_prepare_chain(Vm& vm, u32 n);
void rmap_unprepare_chain(Vm& vm, PvEntry* chain);

// Maps the 2 MiB block of object pages `head` and the 511 frames after it
// (Pmap::enter_large: `va` 2 MiB-aligned, nothing mapped in its 2 MiB) and
// records the 512 mappings, one pv entry per frame from `chain` (from
// rmap_prepare_chain(kLargePagePages)), so every frame is a page of its own
// to the reverse map from the start: pageout, fork and the audit see 512
// mappings, and a split changes no pv entry. Takes pmap_lock. Not kOk:
// nothing changed and the chain is given back (kFault: something is mapped
// in the 2 MiB now; kNoMem: no table). The huge zero page (Vm::huge_zero,
// frames in State::kZero) is mapped the same way with `chain` nullptr: like
// the small zero page it is counted in its frames' map_count but has no pv
// entries (pageout never takes it).
Status rmap_enter_large(Vm& vm, Pmap& pmap, vaddr_t va, Page* head, PteAttrs attrs, PvEntry* chain);

// Clears every PTE in [start, end) of `pmap` and their reverse-map entries.
// Takes pmap_lock.
void rmap_remove_range(Vm& vm, Pmap& pmap, vaddr_t start, vaddr_t end, TlbBatch& batch);

// Lowers the rights of [start, end) of `pmap` (Pmap::protect) under pmap_lock.
void rmap_protect_range(Vm& vm, Pmap& pmap, vaddr_t start, vaddr_t end, PteAttrs attrs,
                        TlbBatch& batch);

// Clears every PTE that maps `page` (each exchanged to zero in one atomic
// step, so a D bit a CPU sets meanwhile is never lost), records the
// invalidations in `batch`, and returns whether any of them had D set.
// `*shootdown_owed`: another thread removed a PTE of the page and has not
// shot it down yet (vm/delayed_invalidation.hpp), so some CPU may still
// translate to it. Takes pmap_lock. The caller holds the page busy and its
// object's lock, so no new mapping of it can appear.
bool rmap_unmap_all(Vm& vm, Page* page, TlbBatch& batch, bool* shootdown_owed);

// Whether any PTE of `page` has D set, without clearing it: only for the
// pageout-dirty-race mutation, which tests and clears in two steps.
bool rmap_any_dirty(Vm& vm, Page* page);

// Whether the CPU used `page` since the last call: the A bit of every PTE
// mapping it is tested and cleared (recorded in `batch`). Takes pmap_lock.
bool rmap_test_clear_referenced(Vm& vm, Page* page, TlbBatch& batch);

// Audit: every pv entry of `page` names a present PTE of `page`, no two name
// the same PTE, and their number is the page's map_count. nullptr or the
// name of the broken invariant. Caller quiescent.
const char* rmap_check(Vm& vm, const Page* page);

}  // namespace vm
