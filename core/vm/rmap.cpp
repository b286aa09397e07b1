#include "vm/rmap.hpp"

#include "locker.hpp"
#include "vm/delayed_invalidation.hpp"
#include "vm/mutation.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"

namespace vm {
namespace {

bool managed(const Page* page) {
  return page != nullptr && page->state == Page::State::kObject;
}

// A pv entry is a slab object: every write to one says USE().
void pv_set_link(PvEntry** link, PvEntry* to) {
  UseScope use(link);  // the page's list head, or the previous entry's next
  *link = to;
}

// Makes `pv` the entry for (pmap, va) at the head of `page`'s list.
void pv_push(Page* page, PvEntry* pv, Pmap* pmap, vaddr_t va) {
  {
    UseScope use(pv);
    pv->pmap = pmap;
    pv->va = va;
    pv->next = page->pv;
  }
  page->pv = pv;
}

// Unlinks and returns the entry of `page` for (pmap, va); nullptr if none.
PvEntry* pv_take(Page* page, const Pmap* pmap, vaddr_t va) {
  for (PvEntry** link = &page->pv; *link != nullptr; link = &(*link)->next) {
    PvEntry* e = *link;
    if (e->pmap == pmap && e->va == va) {
      pv_set_link(link, e->next);
      return e;
    }
  }
  return nullptr;
}

// One mapping of the frame at `pa` is gone (the PTE is already zero), its
// invalidation recorded in `batch`. A D bit the CPU had set in it moves to
// the page: a file page written through a mapping that is gone must still
// be written back before pageout drops it. Until `batch` flushes, the page
// carries its generation: pageout leaves it alone.
void forget_mapping(Vm& vm, const Pmap* pmap, vaddr_t va, paddr_t pa, bool dirty, TlbBatch& batch) {
  Page* page = vm.pages.page_of(pa);
  if (page == nullptr) return;
  if (managed(page)) {
    if (dirty) page->dirty = true;
    page->invl_gen = vm.delayed_invalidations.owe(vm.platform, batch);
    PvEntry* e = pv_take(page, pmap, va);
    if (e == nullptr) {
      FixedString<160> f;
      f << "rmap: no pv entry for the PTE at " << Hex{va} << " of page " << page->index;
      vm.platform.panic(f.c_str());
    }
    vm.pv_entries.destroy(e);
  }
  page_map_drop(vm.platform, page);
}

struct RemoveCtx {
  Vm& vm;
  const Pmap* pmap;
  TlbBatch& batch;
};

void on_remove(void* ctx, vaddr_t va, paddr_t pa, bool dirty) {
  auto& c = *static_cast<RemoveCtx*>(ctx);
  forget_mapping(c.vm, c.pmap, va, pa, dirty, c.batch);
}

struct UnmapAllCtx {
  Vm& vm;
  bool dirty = false;
  u32 cleared = 0;
};

void on_unmap_all(void* ctx, vaddr_t, paddr_t pa, bool dirty) {
  auto& c = *static_cast<UnmapAllCtx*>(ctx);
  c.dirty = c.dirty || dirty;
  ++c.cleared;
  if (Page* page = c.vm.pages.page_of(pa)) page_map_drop(c.vm.platform, page);
}

}  // namespace

PvEntry* rmap_prepare(Vm& vm) {
  return vm.pv_entries.create();
}

void rmap_unprepare(Vm& vm, PvEntry* pv) {
  vm.pv_entries.destroy(pv);
}

Status rmap_enter(Vm& vm, Pmap& pmap, vaddr_t va, Page* page, PteAttrs attrs, TlbBatch& batch,
                  PvEntry* pv) {
  // A large entry over `va` is split by enter(), which looks at it under the
  // pmap lock: pageout may split it meanwhile. The mutation decides before
  // the lock and splits after it without looking again (a pmd_trans_huge
  // test outside the page-table lock).
  const bool seen_large = vm.mutated(Mutation::kThpSplitUnlocked) && pmap.large_at(va);
  MutexLocker lock(vm.platform, vm.pmap_lock);
  if (seen_large) pmap.split_seen_large(va);
  const paddr_t pa = vm.pages.phys(page);
  paddr_t old_pa = 0;
  const bool was_mapped = pmap.extract(va, &old_pa, nullptr);
  old_pa = page_trunc(old_pa);
  // Replacing a frame drops the old entry's D bit: it is taken first.
  const bool old_dirty = was_mapped && old_pa != pa && pmap.is_dirty(va);
  const Status s = pmap.enter(va, pa, attrs, batch);
  if (s != Status::kOk || (was_mapped && old_pa == pa)) {
    vm.pv_entries.destroy(pv);
    return s;
  }
  if (was_mapped) forget_mapping(vm, &pmap, va, old_pa, old_dirty, batch);
  page_map_add(vm.platform, page);
  if (managed(page)) {
    pv_push(page, pv, &pmap, va);
  } else {
    vm.pv_entries.destroy(pv);
  }
  return Status::kOk;
}

Status rmap_enter_unmanaged(Vm& vm, Pmap& pmap, vaddr_t va, paddr_t pa, PteAttrs attrs,
                            TlbBatch& batch) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  if (vm.pages.page_of(pa) != nullptr) vm.platform.panic("rmap_enter_unmanaged of a RAM frame");
  paddr_t old_pa = 0;
  const bool was_mapped = pmap.extract(va, &old_pa, nullptr);
  old_pa = page_trunc(old_pa);
  const bool old_dirty = was_mapped && old_pa != pa && pmap.is_dirty(va);
  const Status s = pmap.enter(va, pa, attrs, batch);
  if (s == Status::kOk && was_mapped && old_pa != pa)
    forget_mapping(vm, &pmap, va, old_pa, old_dirty, batch);
  return s;
}

PvEntry* rmap_prepare_chain(Vm& vm, u32 n) {
  PvEntry* chain = nullptr;
  for (u32 i = 0; i < n; ++i) {
    PvEntry* e = vm.pv_entries.create();
    if (e == nullptr) {
      rmap_unprepare_chain(vm, chain);
      return nullptr;
    }
    pv_set_link(&e->next, chain);
    chain = e;
  }
  return chain;
}

void rmap_unprepare_chain(Vm& vm, PvEntry* chain) {
  while (chain != nullptr) {
    PvEntry* next = chain->next;
    vm.pv_entries.destroy(chain);
    chain = next;
  }
}

Status rmap_enter_large(Vm& vm, Pmap& pmap, vaddr_t va, Page* head, PteAttrs attrs,
                        PvEntry* chain) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  const Status s = pmap.enter_large(va, vm.pages.phys(head), attrs);
  if (s != Status::kOk) {
    rmap_unprepare_chain(vm, chain);
    return s;
  }
  for (u64 i = 0; i < kLargePagePages; ++i) {
    Page* page = head + i;
    page_map_add(vm.platform, page);
    if (!managed(page)) continue;  // the huge zero page: no pv entries
    PvEntry* pv = chain;
    chain = chain->next;
    pv_push(page, pv, &pmap, va + (i << kPageShift));
  }
  return Status::kOk;
}

void rmap_remove_range(Vm& vm, Pmap& pmap, vaddr_t start, vaddr_t end, TlbBatch& batch) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  RemoveCtx ctx{vm, &pmap, batch};
  pmap.remove(start, end, batch, on_remove, &ctx);
}

void rmap_protect_range(Vm& vm, Pmap& pmap, vaddr_t start, vaddr_t end, PteAttrs attrs,
                        TlbBatch& batch) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  pmap.protect(start, end, attrs, batch);
}

bool rmap_unmap_all(Vm& vm, Page* page, TlbBatch& batch, bool* shootdown_owed) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  vm.platform.touched(page);  // its pv list
  UnmapAllCtx ctx{vm};
  while (PvEntry* e = page->pv) {
    page->pv = e->next;
    e->pmap->remove(e->va, e->va + kPageSize, batch, on_unmap_all, &ctx);
    vm.pv_entries.destroy(e);
  }
  *shootdown_owed = !vm.delayed_invalidations.settled(vm.platform, page->invl_gen);
  return ctx.dirty;
}

bool rmap_any_dirty(Vm& vm, Page* page) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  vm.platform.touched(page);  // its pv list
  for (PvEntry* e = page->pv; e != nullptr; e = e->next)
    if (e->pmap->is_dirty(e->va)) return true;
  return false;
}

bool rmap_test_clear_referenced(Vm& vm, Page* page, TlbBatch& batch) {
  MutexLocker lock(vm.platform, vm.pmap_lock);
  vm.platform.touched(page);  // its pv list
  bool referenced = false;
  for (PvEntry* e = page->pv; e != nullptr; e = e->next)
    referenced = e->pmap->test_and_clear_accessed(e->va, batch) || referenced;
  return referenced;
}

const char* rmap_check(Vm& vm, const Page* page) {
  u32 n = 0;
  for (const PvEntry* e = page->pv; e != nullptr; e = e->next) {
    ++n;
    paddr_t pa = 0;
    if (!e->pmap->extract(e->va, &pa, nullptr) || page_trunc(pa) != vm.pages.phys(page))
      return "pv entry names a PTE that does not map its page";
    for (const PvEntry* f = e->next; f != nullptr; f = f->next)
      if (f->pmap == e->pmap && f->va == e->va) return "two pv entries name the same PTE";
  }
  if (n != page->map_count.load()) return "pv entries of a page differ from its map_count";
  return nullptr;
}

}  // namespace vm
