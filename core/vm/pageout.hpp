// Pageout: frees frames by moving pages to where they can be found again —
// a clean file page is dropped (the file has it), a dirty one written back
// first, an anonymous page or private copy written to swap.
//
// Victims come from one queue of every object page, scanned as a CLOCK
// (second chance): a page whose PTEs have the accessed bit set — set by the
// CPU, emulated or real — has the bits cleared and goes to the back; one
// with none set is taken. A resident limit's reclaim scans it as a GCLOCK
// (pages keep a few references as credit). The choice is documented and measured in
// docs/pressure.md (FreeBSD splits this queue into active and inactive;
// Linux keeps two LRU lists with refault distances).
//
// Pageout runs in the thread whose allocation failed, with none of that
// thread's object or pmap locks held (a map lock may be: pageout takes
// none). It takes objects' locks only with trylock — skipping a page whose
// object is busy elsewhere — so it never waits in a lock cycle. A victim is
// held busy (exclusive) from before its PTEs go until its frame is freed,
// so a fault that meets it waits and then finds it on swap or in the file.
// Its PTEs go in one atomic exchange each (rmap_unmap_all), collecting D
// bits, and every CPU's TLB is shot down before its contents are read for
// the write and before its frame is reused.
#pragma once

#include "lib/types.hpp"

namespace vm {

class Vm;
class VmObject;
struct Page;

// The queue: every resident object page is on it (Vm::page_queue_lock).
void page_enqueue(Vm& vm, Page* page);
void page_dequeue(Vm& vm, Page* page);
// Collapse moves `page` to `object`: Page::object of a queued page changes
// only under the queue's lock, which is what pageout reads it under.
void page_set_object(Vm& vm, Page* page, VmObject* object);

// Frees up to `target` frames; returns how many it freed. With
// `max_credit` > 0 the hand is a GCLOCK: a referenced page earns a credit
// (up to max_credit), an unreferenced one spends one, and only a page with
// none left and no reference is taken; 0 is plain CLOCK.
u64 vm_pageout(Vm& vm, u64 target, u8 max_credit = 0);

// An allocation failed: reclaims a batch. False when nothing could be freed
// (out of memory). Called with no object or pmap lock held.
bool vm_reclaim(Vm& vm);

// Keeps a margin of free frames above the reserve before an operation
// starts (Linux's low/high watermarks), so that ops which cannot reclaim
// midway seldom meet an empty free list.
void vm_pageout_balance(Vm& vm);

}  // namespace vm
