// The invariants, in the order they are checked:
//  1. allocators: the free list matches frame states; slab caches are sane;
//  2. processes are in strictly ascending name order;
//  3. each object's resident tree is a valid AVL tree of its own pages;
//  4. each address space: regions ordered, non-overlapping, page-aligned,
//     inside [kMapMin, kUserTop), within their object; the page tables are
//     well formed; every PTE lies in a region that permits what it grants and
//     names the page that region shows at that address (found along its
//     shadow chain), or a zero page's frame read-only where no object on
//     the chain has one; a writable PTE names a page of the region's own object; a
//     PTE of a device region names exactly that device frame, which no Page
//     describes (vm/device.hpp);
//  5. every object page's (and the zero page's) map_count equals the PTEs
//     naming it; every object's ref_count equals the regions mapping it plus
//     the objects shadowing it (plus one for a file's or device's own), and
//     its shadow_count those objects; a device object has no page of its own;
//  6. frame states add up: page-table frames = table pages of all pmaps;
//     the region count agrees with the stats;
//  7. the block cache: every block in its owner's tree and the LRU list,
//     its frames in state kCache and in order, the counts exact;
//  8. the zero pages (the small one and the huge one, if taken) still read
//     zero: every read-only mapping of untouched memory shares them, so a
//     write that landed in one (Dirty COW, Huge Dirty COW) shows here.
//
// Locking: the audit runs only while no thread runs core code (between ops,
// every other thread stopped at a yield point or done), so it reads every
// structure without taking its lock. Each function is therefore exempt from
// the thread-safety analysis (NO_THREAD_SAFETY_ANALYSIS); nothing else about
// them is special.
#include "sys/audit.hpp"

#include "vm/rmap.hpp"
#include "vm/swap_pager.hpp"

#include "lib/mem.hpp"
#include "vm/vm_fault.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

struct PteCheck {
  Kernel* kernel;
  AddressSpace* as;
  AuditMessage* why;
  bool ok = true;
};

bool fail(AuditMessage& why, const char* what) {
  why.clear();
  why << what;
  return false;
}

bool check_allocators(Kernel& k, AuditMessage& why) NO_THREAD_SAFETY_ANALYSIS {
  const char* broken = k.vm.pages.check();
  if (broken == nullptr) broken = k.vm.objects.check();
  if (broken == nullptr) broken = k.vm.regions.check();
  if (broken == nullptr) broken = k.vm.spaces.check();
  if (broken == nullptr) broken = k.vm.pv_entries.check();
  if (broken == nullptr) broken = k.vm.swap_entries.check();
  if (broken == nullptr) broken = k.vm.swap.check();
  if (broken == nullptr) broken = k.vm.compressor.check();
  if (broken == nullptr) broken = k.process_slab.check();
  if (broken == nullptr) broken = k.vnode_slab.check();
  if (broken == nullptr) broken = k.device_slab.check();
  return broken == nullptr || fail(why, broken);
}

bool check_process_order(Kernel& k, AuditMessage& why) NO_THREAD_SAFETY_ANALYSIS {
  const Process* prev = nullptr;
  for (Process* p = k.processes.front(); p != nullptr; prev = p, p = k.processes.next(p)) {
    if (prev != nullptr && str_compare(prev->name, p->name) >= 0) {
      why.clear();
      why << "processes out of name order at \"" << p->name << "\"";
      return false;
    }
  }
  return true;
}

// One more reference (a shadow's, when `shadow`) found on `o`.
void count_ref(VmObject* o, bool shadow) {
  UseScope use(o);  // the audit's scratch in a slab object
  ++o->audit_refs;
  if (shadow) ++o->audit_shadows;
}

bool check_objects(Kernel& k, AuditMessage& why) NO_THREAD_SAFETY_ANALYSIS {
  for (VmObject* o = k.vm.all_objects.front(); o != nullptr; o = k.vm.all_objects.next(o)) {
    UseScope use(o);  // the audit's scratch in a slab object
    o->audit_refs = 0;
    o->audit_shadows = 0;
  }
  // A file holds a reference on its vnode object; shadows on their backing.
  for (Vnode* f = k.files.front(); f != nullptr; f = k.files.next(f)) count_ref(f->object, false);
  for (Device* d = k.devices.front(); d != nullptr; d = k.devices.next(d)) {
    count_ref(d->object, false);
    const bool ok = d->object->kind == VmObject::Kind::kDevice && d->object->device == d &&
                    d->object->size_pages == d->size_pages && d->object->resident.empty() &&
                    d->object->swap.empty() && d->object->backing == nullptr &&
                    d->object->shadow_count.load() == 0 && k.vm.pages.device_frame(d->pa) &&
                    k.vm.pages.device_frame(d->page_pa(d->size_pages - 1)) &&
                    k.vm.pages.page_of(d->pa) == nullptr;
    if (!ok) {
      why.clear();
      why << "device " << d->name << " is not a registered, pageless, unshadowed range";
      return false;
    }
  }
  for (VmObject* o = k.vm.all_objects.front(); o != nullptr; o = k.vm.all_objects.next(o)) {
    if (o->backing != nullptr) {
      count_ref(o->backing, true);
    }
  }
  for (VmObject* o = k.vm.all_objects.front(); o != nullptr; o = k.vm.all_objects.next(o)) {
    if (const char* broken = o->resident.check()) return fail(why, broken);
    for (Page* pg = o->resident.first(); pg != nullptr; pg = o->resident.next(pg)) {
      if (pg->state != Page::State::kObject || pg->object != o || pg->index >= o->size_pages) {
        why.clear();
        why << "object " << static_cast<const void*>(o) << " holds page index " << pg->index
            << " that is not its own resident page";
        return false;
      }
    }
    if (const char* broken = o->swap.check()) return fail(why, broken);
    for (SwapEntry* e = o->swap.first(); e != nullptr; e = o->swap.next(e)) {
      if (e->index >= o->size_pages || o->resident.find(e->index) != nullptr) {
        why.clear();
        why << "object " << static_cast<const void*>(o) << " has page index " << e->index
            << " on swap, past its end or also resident";
        return false;
      }
    }
  }
  return true;
}

bool check_regions(AddressSpace& as, const char* proc, AuditMessage& why,
                   u64* count) NO_THREAD_SAFETY_ANALYSIS {
  if (const char* broken = as.regions.check()) return fail(why, broken);
  vaddr_t prev_end = kMapMin;
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r)) {
    ++*count;
    const bool shape_ok = page_aligned(r->start) && page_aligned(r->end) && r->start < r->end &&
                          r->start >= prev_end && r->end <= kUserTop && r->object != nullptr &&
                          r->offset + r->pages() <= r->object->size_pages;
    if (!shape_ok) {
      why.clear();
      why << "process " << proc << ": region " << Hex{r->start} << "-" << Hex{r->end}
          << " is misplaced, overlapping or exceeds its object";
      return false;
    }
    count_ref(r->object, false);
    prev_end = r->end;
  }
  return true;
}

// One present PTE: it must be granted by its region and name that region's page.
void check_pte(void* ctx, vaddr_t va, paddr_t pa, PteAttrs attrs) NO_THREAD_SAFETY_ANALYSIS {
  auto& c = *static_cast<PteCheck*>(ctx);
  if (!c.ok) return;
  const Region* r = vm_map_lookup(*c.as, va);
  Page* pg = c.kernel->vm.pages.page_of(pa);
  const char* broken = nullptr;
  const Device* device =
      r != nullptr && r->object->kind == VmObject::Kind::kDevice ? r->object->device : nullptr;
  if (r == nullptr) {
    broken = "PTE outside every region";
  } else if (!attrs.user || r->prot == kProtNone || (attrs.writable && !(r->prot & kProtWrite)) ||
             (attrs.executable && !(r->prot & kProtExec))) {
    broken = "PTE grants more than its region";
  } else if (device != nullptr) {
    if (pg != nullptr || page_trunc(pa) != device->page_pa(r->index_of(va)))
      broken = "PTE of a device region names a frame other than the device's page there";
  } else if (pg == nullptr && c.kernel->vm.pages.device_frame(pa)) {
    broken = "PTE outside a device region names a device frame";
  } else {
    VmObject* owner = nullptr;
    Page* shown = vm_object_lookup_chain(r->object, r->index_of(va), &owner);
    // The small zero page, or a frame of the huge zero page (a large entry's
    // or, after a split, a PTE's).
    const bool zero_ok =
        pg != nullptr && pg->state == Page::State::kZero && shown == nullptr && !attrs.writable;
    if (pg == nullptr || (pg != shown && !zero_ok)) {
      broken = "PTE names a frame other than the page its region shows at that address";
    } else if (attrs.writable && owner != r->object) {
      broken = "writable PTE names a page of a backing object (copy-on-write lost)";
    }
  }
  if (broken != nullptr) {
    c.why->clear();
    *c.why << broken << " at " << Hex{va} << " -> " << Hex{pa};
    c.ok = false;
    return;
  }
  if (pg != nullptr) ++pg->audit_mark;
}

// One large entry (spec §9): its 2 MiB lie in private anonymous regions
// with no hole (a change to part of it must have split it first; a clip
// that changes no PTE, as madvise hugepage or an mprotect that raises
// rights, may leave it over two regions of one object), and its frames are
// a whole aligned block. That each of its 512 pages is the page its region
// shows, granted by it, with a pv entry, is check_pte's and rmap_check's,
// as for any PTE.
void check_large(void* ctx, vaddr_t va, paddr_t pa, PteAttrs) NO_THREAD_SAFETY_ANALYSIS {
  auto& c = *static_cast<PteCheck*>(ctx);
  if (!c.ok) return;
  const char* broken = nullptr;
  vaddr_t covered = va;
  for (const Region* r = vm_map_lookup(*c.as, va);
       broken == nullptr && covered < va + kLargePageSize; r = c.as->regions.next(r)) {
    if (r == nullptr || r->start > covered) {
      broken = "large page over a hole (a partial unmap did not split it)";
    } else if (r->file != nullptr || r->share != Share::kPrivate) {
      broken = "large page in a region that is not private anonymous memory";
    } else {
      covered = r->end;
    }
  }
  if (broken == nullptr && large_trunc(pa) != pa)
    broken = "large page on a block that is not 2 MiB-aligned";
  if (broken == nullptr) return;
  c.why->clear();
  *c.why << broken << " at " << Hex{va} << " -> " << Hex{pa};
  c.ok = false;
}

bool check_address_space(Kernel& k, Process& p, AuditMessage& why, u64* regions,
                         u64* table_pages) NO_THREAD_SAFETY_ANALYSIS {
  AddressSpace& as = *p.as;
  if (!check_regions(as, p.name, why, regions)) return false;
  if (const char* broken = as.pmap.check()) return fail(why, broken);
  *table_pages += as.pmap.table_pages();
  PteCheck c{&k, &as, &why};
  as.pmap.for_each(check_pte, &c);
  if (c.ok) as.pmap.for_each_large(check_large, &c);
  return c.ok;
}

// The block cache: its own structure, every cached block in its owner's
// tree and every tree's block cached, and exactly its frames in state kCache.
bool check_block_cache(Kernel& k, AuditMessage& why,
                       u64 cache_frames_seen) NO_THREAD_SAFETY_ANALYSIS {
  u64 cache_frames = 0;
  const char* broken = k.vm.block_cache.check(&cache_frames);
  u64 owned = 0;
  for (Process* p = k.processes.front(); p != nullptr; p = k.processes.next(p))
    owned += p->cache.blocks.size();
  if (broken == nullptr && owned != k.vm.block_cache.stats().blocks)
    broken = "the processes' block trees hold another number of blocks than the cache";
  if (broken == nullptr && cache_frames != cache_frames_seen)
    broken = "frames in state cache that no cached block holds";
  if (broken == nullptr) return true;
  why.clear();
  why << "block cache: " << broken;
  return false;
}

bool check_counts(Kernel& k, AuditMessage& why, u64 regions,
                  u64 table_pages) NO_THREAD_SAFETY_ANALYSIS {
  u64 table_frames = 0;
  u64 object_frames = 0;
  u64 cache_frames = 0;
  for (u64 pfn = 0; pfn < k.vm.pages.described_frames(); ++pfn) {
    Page* pg = k.vm.pages.page_at(pfn);
    if (pg->state == Page::State::kPageTable) ++table_frames;
    if (pg->state == Page::State::kObject) ++object_frames;
    if (pg->state == Page::State::kCache) ++cache_frames;
    const bool mappable = pg->state == Page::State::kObject || pg->state == Page::State::kZero;
    if (mappable && pg->map_count.load() != pg->audit_mark) {
      why.clear();
      why << "frame " << Hex{pfn << kPageShift} << " has map_count " << pg->map_count.load()
          << " but " << pg->audit_mark << " PTEs name it";
      return false;
    }
    if (pg->state == Page::State::kObject) {
      const char* broken = rmap_check(k.vm, pg);
      if (broken == nullptr && !pg->queue_node.linked())
        broken = "object page not on the pageout queue";
      if (broken == nullptr && swap_pager_has(pg->object, pg->index))
        broken = "page both resident and on swap";
      if (broken != nullptr) {
        why.clear();
        why << broken << ": frame " << Hex{pfn << kPageShift};
        return false;
      }
    }
  }
  if (object_frames != k.vm.page_queue_length) {
    why.clear();
    why << object_frames << " object pages, but the pageout queue holds " << k.vm.page_queue_length;
    return false;
  }
  // resident_user_peak (spec §8) is only as true as this count.
  if (object_frames != k.vm.stats.resident_user.load()) {
    why.clear();
    why << object_frames << " frames hold object pages, but resident_user says "
        << k.vm.stats.resident_user.load();
    return false;
  }
  if (table_frames != table_pages) {
    why.clear();
    why << table_frames << " page-table frames, but the address spaces hold " << table_pages;
    return false;
  }
  for (VmObject* o = k.vm.all_objects.front(); o != nullptr; o = k.vm.all_objects.next(o)) {
    if (o->audit_refs != o->ref_count.load() || o->audit_shadows != o->shadow_count.load()) {
      why.clear();
      why << "object " << static_cast<const void*>(o) << " has ref_count " << o->ref_count.load()
          << " and shadow_count " << o->shadow_count.load() << " but " << o->audit_refs
          << " regions and shadows reference it, " << o->audit_shadows << " of them shadows";
      return false;
    }
  }
  if (regions != k.vm.stats.regions.load()) {
    why.clear();
    why << regions << " regions in the maps, but the count says " << k.vm.stats.regions.load();
    return false;
  }
  return check_block_cache(k, why, cache_frames);
}

// Invariant 8: the zero pages hold zeros, and no other frame is kZero.
bool check_zero_pages(Kernel& k, AuditMessage& why) NO_THREAD_SAFETY_ANALYSIS {
  Vm& vm = k.vm;
  const Page* huge = vm.huge_zero.load();
  const char* broken = nullptr;
  if (!mem_is_zero(vm.pages.data(vm.zero_page), kPageSize))
    broken = "the zero page was written";
  else if (huge != nullptr && !mem_is_zero(vm.pages.data(huge), kLargePageSize))
    broken = "the huge zero page was written";
  u64 zero_frames = 0;
  for (u64 pfn = 0; pfn < vm.pages.described_frames(); ++pfn)
    if (vm.pages.page_at(pfn)->state == Page::State::kZero) ++zero_frames;
  if (broken == nullptr && zero_frames != 1 + (huge != nullptr ? kLargePagePages : 0))
    broken = "frames in state zero other than the zero page and the huge zero page";
  if (broken == nullptr) return true;
  why.clear();
  why << broken;
  return false;
}

}  // namespace

bool audit(Kernel& k, AuditMessage& why) NO_THREAD_SAFETY_ANALYSIS {
  if (!check_allocators(k, why) || !check_process_order(k, why) || !check_objects(k, why))
    return false;
  for (u64 pfn = 0; pfn < k.vm.pages.described_frames(); ++pfn)
    k.vm.pages.page_at(pfn)->audit_mark = 0;
  u64 regions = 0;
  u64 table_pages = 0;
  for (Process* p = k.processes.front(); p != nullptr; p = k.processes.next(p))
    if (!check_address_space(k, *p, why, &regions, &table_pages)) return false;
  return check_counts(k, why, regions, table_pages) && check_zero_pages(k, why);
}

}  // namespace vm
