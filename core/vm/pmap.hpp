// The physical map: one address space's x86-64 4-level page tables (PML4 →
// PDPT → PD → PT; 4 KiB pages, and 2 MiB pages mapped by one PS entry of a
// page directory, docs/large-pages.md). Paging-structure pages come from the
// page allocator and go back when their last entry is cleared. Every change
// to a present entry is recorded in a TlbBatch; the caller flushes the batch
// before it frees any frame the old entries named (unhook → flush → free, as
// Linux's mmu_gather orders it).
#pragma once

#include "lib/atomic.hpp"
#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/page.hpp"
#include "vm/tlb_batch.hpp"

namespace vm {

class PageAllocator;

// The lower half is user space; the user range ends one page below the top
// of it (Linux's TASK_SIZE), the upper half belongs to the kernel.
inline constexpr vaddr_t kUserTop = 0x7ffffffff000;
inline constexpr vaddr_t kKernelBase = 0xffff800000000000;

// A large page: 2 MiB, one page-directory entry, 512 frames of 4 KiB.
inline constexpr u64 kLargePageShift = 21;
inline constexpr u64 kLargePageSize = u64{1} << kLargePageShift;
inline constexpr u64 kLargePagePages = kLargePageSize >> kPageShift;  // 512
constexpr vaddr_t large_trunc(vaddr_t va) {
  return va & ~(kLargePageSize - 1);
}

// What a PTE grants, in machine-independent terms.
struct PteAttrs {
  bool writable = false;
  bool executable = false;
  bool user = true;
};

// Locking: not internally locked. (m) the caller serializes every call on
// one Pmap with the owning address space's lock (AddressSpace::pmap is
// GUARDED_BY it), active_ included; (c) set by init(). The one concurrent
// writer it expects is the page walker of some CPU setting A/D bits, which
// is why entries are read and written whole and bits are cleared atomically
// (see vm/pte.hpp).
//
// The tree covers the lower half of the address space, [0, 2^47); the upper
// half of the PML4 is a copy of the kernel's entries, never written, walked
// or freed here. User policy (kUserTop) is the caller's: the pmap maps any
// lower-half page it is given.
//
// Table page accounting (Page of a kPageTable frame):
//   pt_entries = number of non-zero entries of that table. For the PML4 only
//   the lower half counts: the kernel half is borrowed, and the PML4 is never
//   freed by count, only by destroy().
//   A table page other than the PML4 is linked iff pt_entries > 0: enter()
//   links new tables only with their entry in them, and remove() unlinks a
//   table as soon as its count reaches zero.
//
// Large pages (FreeBSD's pmap superpages, Linux's huge PMDs): enter_large()
// maps 2 MiB with one PS entry of a page directory. Every other operation
// takes them in its stride: one that covers the whole 2 MiB acts on the PS
// entry; one that covers part of it first splits it (demotion): the entry is
// made not present and every CPU that runs on this root drops its 2 MiB
// translation, then the same frames, rights and A/D bits take its place as a
// page table of 512 entries (invalidate before install: no CPU ever holds a
// 2 MiB and a 4 KiB translation of one address). The
// table a split needs is set aside when the large entry is made (FreeBSD
// keeps the page-table page of a promoted range for the same reason), so a
// split never allocates and never fails, not even for pageout at 100%
// memory use.
class Pmap {
 public:
  // Called once per entry remove() clears, after the entry is zero (but
  // before the TLB flush). The second form also says whether the hardware
  // had set D: the frame was written through this mapping, and its contents
  // must not be dropped (a shared file page must be written back).
  using UnmapFn = void (*)(void* ctx, vaddr_t va, paddr_t pa);
  using UnmapDirtyFn = void (*)(void* ctx, vaddr_t va, paddr_t pa, bool dirty);
  using VisitFn = void (*)(void* ctx, vaddr_t va, paddr_t pa, PteAttrs attrs);

  // Allocates the PML4 (kNoMem) and copies the platform's kernel half into it.
  // `splits` (optional) counts the large entries split.
  Status init(Platform& platform, PageAllocator& pages, Atomic<u64>* splits = nullptr);
  // Frees the PML4 and any table left; nothing may be mapped any more (the
  // caller removed every mapping; a leaf still present panics, naming it).
  // Flushes the active CPUs first, then frees at once: no CPU may be running
  // on this root any more.
  void destroy();

  paddr_t root() const { return root_; }

  // Maps the page `va` → frame `pa`: both page-aligned, `va` in the lower
  // half, `pa` in RAM or a device range (else kInval). Allocates the missing tables of the path
  // all at once before linking any, so kNoMem leaves the tree as it was.
  // If `va` was mapped, the old entry is replaced; the change is recorded if
  // the translation differs. Replacing a frame by itself keeps its A/D bits;
  // replacing it by another drops them, and the caller's reverse-map and
  // dirty bookkeeping for the old frame (remove() first if it matters).
  // A large entry of `va`'s 2 MiB is split first.
  Status enter(vaddr_t va, paddr_t pa, PteAttrs attrs, TlbBatch& batch);
  // Maps the 2 MiB page `va` → `pa` (both 2 MiB-aligned, `pa` and the 511
  // frames after it in RAM, else kInval) with one PS entry. Only where the
  // page-directory entry of `va` is empty: no table, nothing mapped in the
  // 2 MiB (else kFault: the caller maps small pages). Allocates the missing
  // upper tables and the table a split will need (kNoMem: nothing changed).
  Status enter_large(vaddr_t va, paddr_t pa, PteAttrs attrs);
  // Whether nothing at all is mapped in `va`'s 2 MiB: its page-directory
  // entry is empty (a table counts as something, even one the pmap would
  // free at its last entry, which it already did).
  bool large_slot_empty(vaddr_t va) const;
  // Whether a large entry maps `va`'s 2 MiB now.
  bool large_at(vaddr_t va) const;
  // Mutation thp-split-unlocked only: splits the page-directory entry of
  // `va` as the large entry the caller saw there before it took the pmap
  // lock, without looking at it again.
  void split_seen_large(vaddr_t va);
  // Mutation thp-split-local-flush only: from now on a split drops the 2 MiB
  // translation on the splitting CPU alone before it installs the table.
  void split_invalidates_only_local() {
    UseScope use(this);  // an address space is a slab object
    split_local_only_ = true;
  }
  // Clears every entry in [start, end) (rounded out to pages, clipped to the
  // lower half), and frees table pages that become empty, after the batch's
  // flush. Visits only tables that exist: cost follows what is mapped, not
  // the size of the range.
  void remove(vaddr_t start, vaddr_t end, TlbBatch& batch, UnmapFn on_unmap = nullptr,
              void* ctx = nullptr);
  void remove(vaddr_t start, vaddr_t end, TlbBatch& batch, UnmapDirtyFn on_unmap, void* ctx);
  // Lowers the rights of present entries in [start, end) to at most `attrs`
  // (clears R/W unless writable, sets XD unless executable; U/S untouched).
  // Never raises rights: use enter() for that. x86 has no present-but-no-
  // access entry, so PROT_NONE is remove(), not protect().
  void protect(vaddr_t start, vaddr_t end, PteAttrs attrs, TlbBatch& batch);

  // The translation of `va` (pa includes the offset in the page), if present.
  bool extract(vaddr_t va, paddr_t* pa, PteAttrs* attrs) const;

  // Calls `fn(ctx, va, pa, attrs)` for every present lower-half 4 KiB page,
  // ascending (a large entry is visited as its 512 pages).
  void for_each(VisitFn fn, void* ctx) const;
  // Calls `fn(ctx, va, pa, attrs)` for every large entry, ascending.
  void for_each_large(VisitFn fn, void* ctx) const;

  // Accessed and dirty bits, as the hardware walker leaves them in the leaf
  // of `va` (false when unmapped). Clearing either is recorded in `batch`:
  // a CPU that still caches the translation would not set the bit again
  // (a lost D bit is lost data). A large entry has one A bit for its 512
  // pages (Linux's young bit of a huge PMD): clearing it clears it for all.
  // Its D bit cannot be taken from one page alone: test_and_clear_dirty
  // splits it first.
  bool test_and_clear_accessed(vaddr_t va, TlbBatch& batch);
  bool is_dirty(vaddr_t va) const;
  bool test_and_clear_dirty(vaddr_t va, TlbBatch& batch);

  // CPUs that may hold translations of this address space.
  const CpuSet& active_cpus() const { return active_; }
  // The context switch (FreeBSD's pmap_activate): `cpu` starts running on
  // this address space, or leaves it for another (it holds none of its
  // translations any more).
  void activate(unsigned cpu);
  void deactivate(unsigned cpu);

  // Including the PML4 and the tables set aside for splits.
  u64 table_pages() const { return table_pages_; }
  u64 large_entries() const { return large_entries_; }

  // Audit of every table reachable from the lower half: state kPageTable,
  // pt_entries equal to the non-zero entries, non-leaf entries exactly
  // P|RW|US (plus A) naming a page-table frame, leaves present without PS
  // naming a RAM frame, large entries only in page directories naming 512
  // RAM frames from a 2 MiB boundary, one table set aside per large entry,
  // table_pages() = reachable tables + set aside + 1; kernel-half
  // entries are zero or the kernel's own. nullptr, or a description of the
  // first broken invariant (in a static buffer: valid until the next check).
  const char* check() const;

 private:
  struct Walk;  // the per-level recursions (pmap.cpp)

  // Every walk reports the pmap (Platform::touched): its entries are read
  // and marked by every CPU's page walker, and changed by pageout, under no
  // lock those share.
  void touched() const {
    if (platform_ != nullptr) platform_->touched(this);
  }

  Platform* platform_ = nullptr;
  PageAllocator* pages_ = nullptr;
  paddr_t root_ = 0;     // Invariant: 0 before init() and after destroy().
  u64 table_pages_ = 0;  // Invariant: linked table pages + spare_tables_ + the PML4.
  CpuSet active_;
  // Invariant: one kPageTable frame, not linked, per large entry: the table
  // its split will fill.
  List<Page, &Page::queue_node> spare_tables_;
  u64 large_entries_ = 0;
  Atomic<u64>* splits_ = nullptr;
  bool split_local_only_ = false;  // mutation thp-split-local-flush
};

}  // namespace vm
