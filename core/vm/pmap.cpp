// The x86-64 physical map. Every operation is a walk of the 4-level tree
// that descends only into tables that exist, so its cost follows what is
// mapped in the range, never the size of the range.
#include "vm/pmap.hpp"

#include "lib/format.hpp"
#include "vm/page.hpp"
#include "vm/page_allocator.hpp"
#include "vm/pte.hpp"

namespace vm {

using pte::Entry;

namespace {

// Messages naming an address, for check() and panic(). One static buffer:
// check() is an audit read before the next one, and panic() does not
// return, so neither needs to be reentrant.
constinit FixedString<128> message;

const char* fail(const char* what, vaddr_t va) {
  message.clear();
  message << "pmap: " << what << " at va " << Hex{pte::canonical(va)};
  return message.c_str();
}

}  // namespace

// The recursions, one per operation, over a table at `level` that maps the
// addresses from `base`. Nested in Pmap for its private members.
struct Pmap::Walk {
  // Indices [first, last] of the entries of a table at `level` mapping from
  // `base` that overlap [start, end); the two must overlap.
  struct Range {
    unsigned first;
    unsigned last;
  };
  static Range range(unsigned level, vaddr_t base, vaddr_t start, vaddr_t end) {
    const vaddr_t top = base + pte::table_span(level);
    const vaddr_t lo = start > base ? start : base;
    const vaddr_t hi = end < top ? end : top;
    return {unsigned((lo - base) >> pte::shift(level)),
            unsigned((hi - 1 - base) >> pte::shift(level))};
  }
  static vaddr_t entry_va(unsigned level, vaddr_t base, unsigned i) {
    return base + u64{i} * pte::span(level);
  }

  static Entry* entries(const Pmap& p, paddr_t table) {
    return reinterpret_cast<Entry*>(p.platform_->phys(table));
  }
  static Page* page(const Pmap& p, paddr_t table) { return p.pages_->page_of(table); }

  // --- Table pages ---------------------------------------------------------

  static Page* alloc_table(Pmap& p) {
    Page* pg = p.pages_->alloc_zeroed(AllocClass::kNormal);
    if (pg == nullptr) return nullptr;
    pg->state = Page::State::kPageTable;
    pg->pt_entries = 0;
    return pg;
  }

  // Hooks `child` (a table one level down, already filled) under `va`'s
  // entry of `parent`.
  static void link(Pmap& p, paddr_t parent, unsigned parent_level, vaddr_t va, paddr_t child) {
    UseScope use(&p);  // the pmap sits in an address space, a slab object
    pte::store(&entries(p, parent)[pte::index(va, parent_level)], pte::table_entry(child));
    ++page(p, parent)->pt_entries;
    ++p.table_pages_;
  }

  // Unhooks the empty table `child` from `slot` of `parent`. Walkers may hold
  // it in their paging-structure caches, so: full flush, and the frame is
  // freed only after it.
  static void unlink(Pmap& p, Entry* slot, Page* parent, paddr_t child, TlbBatch& batch) {
    UseScope use(&p);  // pageout unlinks under the pmap lock alone
    pte::store(slot, 0);
    --parent->pt_entries;
    --p.table_pages_;
    batch.invalidate_all(p.root_, p.active_);
    batch.defer_free(page(p, child));
  }

  // --- enter -----------------------------------------------------------------

  // The table at `target` (kPt, or kPd for a large entry) on `va`'s path,
  // creating the missing tables of the path. They are all allocated before
  // any is linked, chained bottom-up, and hooked under the deepest existing
  // table last: on kNoMem nothing was linked (the fresh pages, never visible
  // to a walker, go straight back), and a concurrent walker never meets a
  // table that is not yet filled. A large entry on the way is split first.
  static Status make_path(Pmap& p, vaddr_t va, unsigned target, paddr_t* out) {
    paddr_t table = p.root_;
    unsigned level = pte::kPml4;
    for (; level > target; --level) {
      Entry* slot = &entries(p, table)[pte::index(va, level)];
      if (level == pte::kPd && pte::large(pte::load(slot))) demote(p, slot, large_trunc(va));
      const Entry e = pte::load(slot);
      if (e == 0) break;
      table = pte::addr(e);
    }
    // `table` exists at `level`; the tables of levels [target, level) are missing.
    Page* fresh[pte::kLevels - 1];  // fresh[i] will be the table at level - 1 - i
    const unsigned missing = level - target;
    for (unsigned i = 0; i < missing; ++i) {
      fresh[i] = alloc_table(p);
      if (fresh[i] == nullptr) {
        while (i-- > 0) p.pages_->free(fresh[i]);
        return Status::kNoMem;
      }
    }
    for (unsigned i = missing; i-- > 1;)
      link(p, p.pages_->phys(fresh[i - 1]), level - i, va, p.pages_->phys(fresh[i]));
    if (missing > 0) link(p, table, level, va, p.pages_->phys(fresh[0]));
    *out = missing > 0 ? p.pages_->phys(fresh[missing - 1]) : table;
    return Status::kOk;
  }

  // --- large entries -----------------------------------------------------------

  // Splits the large entry in `slot` (a page-directory entry mapping from
  // `base`) in place, in Linux's order (`pmdp_invalidate` before
  // `pmd_populate`): the entry is made not present, every CPU on this root
  // drops its 2 MiB translation and waits, and only then does the table set
  // aside for it, filled with the 512 entries of the same frames, rights and
  // A/D bits, take its place. No CPU can hold the 2 MiB and a 4 KiB
  // translation of one address at once (the SDM leaves the result of that
  // open, AMD erratum 383 makes it a machine check), and the A/D bits taken
  // with the entry are final: no walker can set one in between (a write
  // through a translation without D faults on the not-present entry and
  // waits for the pmap lock). The caller's own changes of the new entries
  // are invalidated by the caller.
  static void demote(Pmap& p, Entry* slot, vaddr_t base) {
    p.platform_->yield(YieldPoint::kThpSplit);
    UseScope use(&p);
    Page* pt = p.spare_tables_.pop_front();
    if (pt == nullptr) p.platform_->panic(fail("large entry without a table set aside", base));
    const paddr_t pt_pa = p.pages_->phys(pt);
    const Entry old = pte::exchange(slot, pte::load(slot) & ~pte::kPresent);
    {
      // An invlpg of any address in a 2 MiB page drops every TLB entry of it
      // and the paging-structure caches (the entry was a leaf: none named it).
      TlbBatch now(*p.platform_, *p.pages_);
      if (p.split_local_only_) now.invalidate_only_on(p.platform_->current_cpu());
      now.invalidate(p.root_, p.active_, base);
    }
    Entry* t = entries(p, pt_pa);
    for (unsigned i = 0; i < pte::kEntries; ++i) pte::store(&t[i], pte::small_of_large(old, i));
    pte::store(slot, pte::table_entry(pt_pa));
    pt->pt_entries = pte::kEntries;
    --p.large_entries_;
    if (p.splits_ != nullptr) p.splits_->add(1);
  }

  // The large entry in `slot` (mapping from `va`) goes as a whole: each of
  // its 512 frames is reported unmapped, with the entry's D bit, and the
  // table set aside for it is freed after the flush.
  static void install_leaf(Pmap& p, paddr_t pt, vaddr_t va, paddr_t pa, PteAttrs attrs,
                           TlbBatch& batch) {
    Entry* slot = &entries(p, pt)[pte::index(va, pte::kPt)];
    const Entry want = pte::leaf_entry(pa, attrs);
    Entry old = pte::load(slot);
    if (old == 0) {  // nothing cached a not-present entry: no invalidation
      pte::store(slot, want);
      ++page(p, pt)->pt_entries;
      return;
    }
    // Same frame: keep what the hardware recorded about it. CAS, because a
    // walker may set D between our read and our write.
    Entry next;
    do {
      next = want | (pte::addr(old) == pa ? old & pte::kHardwareBits : 0);
    } while (!pte::compare_exchange(slot, &old, next));
    if (pte::translation(old) != pte::translation(next)) batch.invalidate(p.root_, p.active_, va);
  }

  // --- remove ----------------------------------------------------------------

  struct RemoveArgs {
    vaddr_t start;
    vaddr_t end;
    TlbBatch& batch;
    UnmapFn on_unmap;  // at most one of the two is set
    UnmapDirtyFn on_unmap_dirty;
    void* ctx;
  };

  static void remove(Pmap& p, paddr_t table, unsigned level, vaddr_t base, RemoveArgs& a) {
    Entry* t = entries(p, table);
    Page* tp = page(p, table);
    const Range r = range(level, base, a.start, a.end);
    for (unsigned i = r.first; i <= r.last; ++i) {
      const Entry e = pte::load(&t[i]);
      if (e == 0) continue;
      const vaddr_t va = entry_va(level, base, i);
      if (level == pte::kPt) {
        clear_leaf(p, &t[i], tp, va, a);
        continue;
      }
      if (level == pte::kPd && pte::large(e)) {
        if (covers(a.start, a.end, va)) {
          clear_large(p, &t[i], tp, va, a);
          continue;
        }
        demote(p, &t[i], va);
      }
      const paddr_t child = pte::addr(pte::load(&t[i]));
      remove(p, child, level - 1, va, a);
      if (page(p, child)->pt_entries == 0) unlink(p, &t[i], tp, child, a.batch);
    }
  }

  // Whether [start, end) covers the whole 2 MiB from `va`.
  static bool covers(vaddr_t start, vaddr_t end, vaddr_t va) {
    return start <= va && end >= va + kLargePageSize;
  }

  static void clear_leaf(Pmap& p, Entry* slot, Page* pt, vaddr_t va, RemoveArgs& a) {
    // Exchange, not store: the D bit must be the last one the hardware set.
    const Entry old = pte::exchange(slot, 0);
    --pt->pt_entries;
    a.batch.invalidate(p.root_, p.active_, va);
    if (a.on_unmap != nullptr) a.on_unmap(a.ctx, va, pte::addr(old));
    if (a.on_unmap_dirty != nullptr)
      a.on_unmap_dirty(a.ctx, va, pte::addr(old), (old & pte::kDirty) != 0);
  }

  // The large entry in `slot` (mapping from `va`) goes as a whole: each of
  // its 512 frames is reported unmapped with the entry's D bit, and the
  // table set aside for it is freed after the flush.
  static void clear_large(Pmap& p, Entry* slot, Page* pd, vaddr_t va, RemoveArgs& a) {
    UseScope use(&p);
    const Entry old = pte::exchange(slot, 0);
    --pd->pt_entries;
    --p.large_entries_;
    a.batch.invalidate_all(p.root_, p.active_);
    Page* spare = p.spare_tables_.pop_front();
    if (spare == nullptr) p.platform_->panic(fail("large entry without a table set aside", va));
    --p.table_pages_;
    a.batch.defer_free(spare);
    const bool dirty = (old & pte::kDirty) != 0;
    for (unsigned k = 0; k < pte::kEntries; ++k) {
      const vaddr_t page_va = va + (u64{k} << kPageShift);
      const paddr_t pa = pte::addr(pte::small_of_large(old, k));
      if (a.on_unmap != nullptr) a.on_unmap(a.ctx, page_va, pa);
      if (a.on_unmap_dirty != nullptr) a.on_unmap_dirty(a.ctx, page_va, pa, dirty);
    }
  }

  // --- protect ---------------------------------------------------------------

  struct ProtectArgs {
    vaddr_t start;
    vaddr_t end;
    PteAttrs limit;
    TlbBatch& batch;
  };

  static void protect(Pmap& p, paddr_t table, unsigned level, vaddr_t base, ProtectArgs& a) {
    Entry* t = entries(p, table);
    const Range r = range(level, base, a.start, a.end);
    for (unsigned i = r.first; i <= r.last; ++i) {
      const Entry e = pte::load(&t[i]);
      if (e == 0) continue;
      const vaddr_t va = entry_va(level, base, i);
      if (level == pte::kPd && pte::large(e)) {
        if (covers(a.start, a.end, va)) {
          if (lower_entry(&t[i], a.limit)) a.batch.invalidate_all(p.root_, p.active_);
          continue;
        }
        if (pte::lowered(e, a.limit) == e) continue;  // nothing would change: no split
        demote(p, &t[i], va);
      }
      if (level == pte::kPt) {
        if (lower_entry(&t[i], a.limit)) a.batch.invalidate(p.root_, p.active_, va);
      } else {
        protect(p, pte::addr(pte::load(&t[i])), level - 1, va, a);
      }
    }
  }

  // Lowers the leaf (small or large) in `slot` to `limit`; false when it
  // already was within it (nothing to invalidate).
  static bool lower_entry(Entry* slot, PteAttrs limit) {
    Entry old = pte::load(slot);
    Entry next;
    do {
      next = pte::lowered(old, limit);
      if (next == old) return false;
    } while (!pte::compare_exchange(slot, &old, next));
    return true;
  }

  // --- lookups ---------------------------------------------------------------

  // The leaf entry of `va` (a PT entry, or a large PD entry), or nullptr
  // when a table on its path is missing.
  static Entry* find_leaf(const Pmap& p, vaddr_t va) {
    if (p.root_ == 0 || !pte::in_lower_half(va)) return nullptr;
    paddr_t table = p.root_;
    for (unsigned level = pte::kPml4; level > pte::kPt; --level) {
      Entry* slot = &entries(p, table)[pte::index(va, level)];
      const Entry e = pte::load(slot);
      if (e == 0) return nullptr;
      if (level == pte::kPd && pte::large(e)) return slot;
      table = pte::addr(e);
    }
    return &entries(p, table)[pte::index(va, pte::kPt)];
  }

  // The page-directory entry of `va`, or nullptr when a table above it is missing.
  static Entry* find_pde(const Pmap& p, vaddr_t va) {
    if (p.root_ == 0 || !pte::in_lower_half(va)) return nullptr;
    paddr_t table = p.root_;
    for (unsigned level = pte::kPml4; level > pte::kPd; --level) {
      const Entry e = pte::load(&entries(p, table)[pte::index(va, level)]);
      if (e == 0) return nullptr;
      table = pte::addr(e);
    }
    return &entries(p, table)[pte::index(va, pte::kPd)];
  }

  // Clears `bit` (A or D) in the leaf of `va`; true if it was set. A large
  // entry keeps one A bit for all its pages, but D is split off per page.
  static bool test_and_clear(Pmap& p, vaddr_t va, Entry bit, TlbBatch& batch) {
    Entry* slot = find_leaf(p, va);
    if (slot == nullptr || (pte::load(slot) & bit) == 0) return false;
    bool large = pte::large(pte::load(slot));
    if (large && bit == pte::kDirty) {
      demote(p, slot, large_trunc(va));
      slot = find_leaf(p, va);
      large = false;
    }
    if ((pte::fetch_and(slot, ~bit) & bit) == 0) return false;
    if (large) {
      batch.invalidate_all(p.root_, p.active_);
    } else {
      batch.invalidate(p.root_, p.active_, page_trunc(va));
    }
    return true;
  }

  // Every mapped 4 KiB page (a large entry as its 512 pages), or only the
  // large entries themselves (kLargeEntries: no page table is walked).
  enum class Visit : u8 { kPages, kLargeEntries };

  static void visit(const Pmap& p, paddr_t table, unsigned level, vaddr_t base, Visit what,
                    VisitFn fn, void* ctx) {
    const Entry* t = entries(p, table);
    const Range r = range(level, base, 0, pte::kLowerHalfEnd);
    for (unsigned i = r.first; i <= r.last; ++i) {
      const Entry e = pte::load(&t[i]);
      if (e == 0) continue;
      const vaddr_t va = entry_va(level, base, i);
      if (level == pte::kPd && pte::large(e)) {
        if (what == Visit::kLargeEntries) {
          fn(ctx, va, e & pte::kLargeAddrMask, pte::attrs(e));
          continue;
        }
        for (unsigned k = 0; k < pte::kEntries; ++k) {
          const Entry small = pte::small_of_large(e, k);
          fn(ctx, va + (u64{k} << kPageShift), pte::addr(small), pte::attrs(small));
        }
      } else if (level == pte::kPt) {
        if (what == Visit::kPages) fn(ctx, va, pte::addr(e), pte::attrs(e));
      } else if (level > pte::kPd || what == Visit::kPages) {
        visit(p, pte::addr(e), level - 1, va, what, fn, ctx);
      }
    }
  }

  // --- destroy ---------------------------------------------------------------

  static void destroy(Pmap& p, paddr_t table, unsigned level, vaddr_t base) {
    Entry* t = entries(p, table);
    const Range r = range(level, base, 0, pte::kLowerHalfEnd);
    for (unsigned i = r.first; i <= r.last; ++i) {
      const Entry e = pte::load(&t[i]);
      if (e == 0) continue;
      const vaddr_t va = entry_va(level, base, i);
      if (level == pte::kPt || (level == pte::kPd && pte::large(e)))
        p.platform_->panic(fail("destroy() with a mapping left", va));
      const paddr_t child = pte::addr(e);
      destroy(p, child, level - 1, va);
      pte::store(&t[i], 0);
      page(p, table)->pt_entries--;
      p.pages_->free(page(p, child));
      UseScope use(&p);
      --p.table_pages_;
    }
  }

  // --- check -----------------------------------------------------------------

  static const char* check_leaf(const Pmap& p, Entry e, vaddr_t va) {
    constexpr Entry kLeafBits = pte::kAddrMask | pte::kPresent | pte::kWritable | pte::kUser |
                                pte::kHardwareBits | pte::kNoExecute;
    if (!pte::present(e)) return fail("non-zero leaf entry not present", va);
    if ((e & pte::kPageSize) != 0) return fail("leaf entry with PS set", va);
    if ((e & ~kLeafBits) != 0) return fail("leaf entry with bits the pmap never sets", va);
    if (p.pages_->page_of(pte::addr(e)) == nullptr && !p.pages_->device_frame(pte::addr(e)))
      return fail("leaf names a frame outside RAM and every device", va);
    return nullptr;
  }

  static const char* check_large(const Pmap& p, Entry e, vaddr_t va, u64* large) {
    constexpr Entry kLargeBits = pte::kLargeAddrMask | pte::kPresent | pte::kWritable | pte::kUser |
                                 pte::kHardwareBits | pte::kNoExecute | pte::kPageSize;
    if (!pte::present(e)) return fail("large entry not present", va);
    if ((e & ~kLargeBits) != 0) return fail("large entry with bits the pmap never sets", va);
    const paddr_t pa = e & pte::kLargeAddrMask;
    if (p.pages_->page_of(pa + kLargePageSize - kPageSize) == nullptr)
      return fail("large entry names frames outside RAM", va);
    ++*large;
    return nullptr;
  }

  static const char* check_table(const Pmap& p, paddr_t table, unsigned level, vaddr_t base,
                                 u64* tables, u64* large) {
    const Page* tp = page(p, table);
    if (tp == nullptr) return fail("table page outside RAM", base);
    if (tp->state != Page::State::kPageTable) return fail("table page not kPageTable", base);
    ++*tables;
    const Entry* t = entries(p, table);
    const Range r = range(level, base, 0, pte::kLowerHalfEnd);
    unsigned used = 0;
    for (unsigned i = r.first; i <= r.last; ++i) {
      const Entry e = pte::load(&t[i]);
      if (e == 0) continue;
      ++used;
      const vaddr_t va = entry_va(level, base, i);
      const char* err = level == pte::kPt ? check_leaf(p, e, va)
                        : level == pte::kPd && pte::large(e)
                            ? check_large(p, e, va, large)
                            : check_link(p, e, level, va, tables, large);
      if (err != nullptr) return err;
    }
    if (used != tp->pt_entries) return fail("pt_entries differs from the non-zero entries", base);
    if (level != pte::kPml4 && used == 0) return fail("empty table page left linked", base);
    return nullptr;
  }

  static const char* check_link(const Pmap& p, Entry e, unsigned level, vaddr_t va, u64* tables,
                                u64* large) {
    // The walker may set A in a non-leaf entry; any other difference is ours.
    if ((e & ~(pte::kAddrMask | pte::kAccessed)) != pte::kTableBits)
      return fail("non-leaf entry flags are not P|RW|US", va);
    return check_table(p, pte::addr(e), level - 1, va, tables, large);
  }

  // Our kernel half is zero or the kernel's (A aside: walkers set it in both).
  static const char* check_kernel_half(const Pmap& p) {
    const paddr_t kroot = p.platform_->kernel_root();
    const Entry* ours = entries(p, p.root_);
    for (unsigned i = pte::kKernelFirstSlot; i < pte::kEntries; ++i) {
      const Entry e = pte::load(&ours[i]);
      const Entry k = kroot != 0 ? pte::load(&entries(p, kroot)[i]) : 0;
      if (e != 0 && pte::translation(e) != pte::translation(k))
        return fail("kernel-half PML4 entry differs from the kernel's",
                    u64{i} << pte::shift(pte::kPml4));
    }
    return nullptr;
  }
};

// --- Pmap ----------------------------------------------------------------------

Status Pmap::init(Platform& platform, PageAllocator& pages, Atomic<u64>* splits) {
  UseScope use(this);
  platform_ = &platform;
  pages_ = &pages;
  splits_ = splits;
  large_entries_ = 0;
  active_.clear();
  Page* pml4 = Walk::alloc_table(*this);
  if (pml4 == nullptr) return Status::kNoMem;
  root_ = pages.phys(pml4);
  table_pages_ = 1;
  // The kernel half is shared, not owned: copied once, never counted in the
  // PML4's pt_entries, never written again. The kernel must therefore have
  // all its PML4 entries in place before the first address space exists.
  const paddr_t kroot = platform.kernel_root();
  if (kroot == 0) return Status::kOk;
  const Entry* kernel = Walk::entries(*this, kroot);
  Entry* ours = Walk::entries(*this, root_);
  for (unsigned i = pte::kKernelFirstSlot; i < pte::kEntries; ++i) {
    const Entry e = pte::load(&kernel[i]);
    if (e != 0) pte::store(&ours[i], e);
  }
  return Status::kOk;
}

void Pmap::destroy() {
  touched();
  if (root_ == 0) return;
  UseScope use(this);
  // Paging-structure caches may still hold this tree; with no CPU running on
  // it any more, one flush makes every frame of it free to reuse.
  if (!active_.empty()) platform_->tlb_invalidate_all(active_, root_);
  Walk::destroy(*this, root_, pte::kPml4, 0);
  while (Page* spare = spare_tables_.pop_front()) pages_->free(spare);
  pages_->free(Walk::page(*this, root_));
  root_ = 0;
  table_pages_ = 0;
  active_.clear();
}

Status Pmap::enter(vaddr_t va, paddr_t pa, PteAttrs attrs, TlbBatch& batch) {
  touched();
  if (root_ == 0 || !page_aligned(va) || !pte::in_lower_half(va) || !page_aligned(pa) ||
      !pte::valid_frame(pa) || (pages_->page_of(pa) == nullptr && !pages_->device_frame(pa)))
    return Status::kInval;
  paddr_t pt = 0;
  const Status s = Walk::make_path(*this, va, pte::kPt, &pt);
  if (s != Status::kOk) return s;
  Walk::install_leaf(*this, pt, va, pa, attrs, batch);
  return Status::kOk;
}

Status Pmap::enter_large(vaddr_t va, paddr_t pa, PteAttrs attrs) {
  touched();
  if (root_ == 0 || large_trunc(va) != va || !pte::in_lower_half(va) || large_trunc(pa) != pa ||
      !pte::valid_frame(pa) || pages_->page_of(pa + kLargePageSize - kPageSize) == nullptr)
    return Status::kInval;
  if (!large_slot_empty(va)) return Status::kFault;
  UseScope use(this);
  Page* spare = Walk::alloc_table(*this);
  if (spare == nullptr) return Status::kNoMem;
  paddr_t pd = 0;
  const Status s = Walk::make_path(*this, va, pte::kPd, &pd);
  if (s != Status::kOk) {
    pages_->free(spare);
    return s;
  }
  spare_tables_.push_front(spare);
  ++table_pages_;
  ++large_entries_;
  // An empty slot was never cached: no invalidation.
  pte::store(&Walk::entries(*this, pd)[pte::index(va, pte::kPd)], pte::large_entry(pa, attrs));
  ++Walk::page(*this, pd)->pt_entries;
  return Status::kOk;
}

bool Pmap::large_slot_empty(vaddr_t va) const {
  touched();
  const Entry* slot = Walk::find_pde(*this, va);
  return slot == nullptr || pte::load(slot) == 0;
}

bool Pmap::large_at(vaddr_t va) const {
  touched();
  const Entry* slot = Walk::find_pde(*this, va);
  return slot != nullptr && pte::large(pte::load(slot));
}

void Pmap::split_seen_large(vaddr_t va) {
  touched();
  if (Entry* slot = Walk::find_pde(*this, va)) Walk::demote(*this, slot, large_trunc(va));
}

// [start, end) rounded out to pages and clipped to the lower half; false
// when nothing is left of it.
static bool clip_range(vaddr_t* start, vaddr_t* end) {
  if (*end > pte::kLowerHalfEnd) *end = pte::kLowerHalfEnd;
  *start = page_trunc(*start);
  *end = page_round(*end);
  return *start < *end;
}

void Pmap::remove(vaddr_t start, vaddr_t end, TlbBatch& batch, UnmapFn on_unmap, void* ctx) {
  touched();
  if (root_ == 0 || !clip_range(&start, &end)) return;
  Walk::RemoveArgs args{start, end, batch, on_unmap, nullptr, ctx};
  Walk::remove(*this, root_, pte::kPml4, 0, args);
}

void Pmap::remove(vaddr_t start, vaddr_t end, TlbBatch& batch, UnmapDirtyFn on_unmap, void* ctx) {
  touched();
  if (root_ == 0 || !clip_range(&start, &end)) return;
  Walk::RemoveArgs args{start, end, batch, nullptr, on_unmap, ctx};
  Walk::remove(*this, root_, pte::kPml4, 0, args);
}

void Pmap::protect(vaddr_t start, vaddr_t end, PteAttrs attrs, TlbBatch& batch) {
  touched();
  if (root_ == 0 || !clip_range(&start, &end)) return;
  if (attrs.writable && attrs.executable) return;  // lowers nothing
  Walk::ProtectArgs args{start, end, attrs, batch};
  Walk::protect(*this, root_, pte::kPml4, 0, args);
}

bool Pmap::extract(vaddr_t va, paddr_t* pa, PteAttrs* attrs) const {
  touched();
  const Entry* slot = Walk::find_leaf(*this, va);
  if (slot == nullptr) return false;
  const Entry e = pte::load(slot);
  if (!pte::present(e)) return false;
  if (pa != nullptr && pte::large(e)) *pa = (e & pte::kLargeAddrMask) | (va & (kLargePageSize - 1));
  if (pa != nullptr && !pte::large(e)) *pa = pte::addr(e) | (va & kPageMask);
  if (attrs != nullptr) *attrs = pte::attrs(e);
  return true;
}

void Pmap::for_each(VisitFn fn, void* ctx) const {
  touched();
  if (root_ != 0) Walk::visit(*this, root_, pte::kPml4, 0, Walk::Visit::kPages, fn, ctx);
}

void Pmap::for_each_large(VisitFn fn, void* ctx) const {
  touched();
  if (root_ != 0) Walk::visit(*this, root_, pte::kPml4, 0, Walk::Visit::kLargeEntries, fn, ctx);
}

bool Pmap::test_and_clear_accessed(vaddr_t va, TlbBatch& batch) {
  touched();
  return Walk::test_and_clear(*this, va, pte::kAccessed, batch);
}

bool Pmap::is_dirty(vaddr_t va) const {
  touched();
  const Entry* slot = Walk::find_leaf(*this, va);
  return slot != nullptr && (pte::load(slot) & pte::kDirty) != 0;
}

bool Pmap::test_and_clear_dirty(vaddr_t va, TlbBatch& batch) {
  touched();
  return Walk::test_and_clear(*this, va, pte::kDirty, batch);
}

const char* Pmap::check() const {
  if (root_ == 0) return table_pages_ == 0 ? nullptr : "pmap: table pages counted without a root";
  u64 tables = 0;
  u64 large = 0;
  if (const char* err = Walk::check_table(*this, root_, pte::kPml4, 0, &tables, &large)) return err;
  if (large != large_entries_ || spare_tables_.size() != large_entries_)
    return "pmap: large entries differ from the tables set aside for their splits";
  for (const Page* t = spare_tables_.front(); t != nullptr; t = spare_tables_.next(t))
    if (t->state != Page::State::kPageTable) return "pmap: a table set aside is not kPageTable";
  if (tables + large != table_pages_)
    return "pmap: table_pages differs from the reachable and set-aside table pages";
  return Walk::check_kernel_half(*this);
}

void Pmap::activate(unsigned cpu) {
  UseScope use(&active_);  // an address space is a slab object
  active_.add(cpu);
}

void Pmap::deactivate(unsigned cpu) {
  UseScope use(&active_);
  active_.remove(cpu);
}

}  // namespace vm
