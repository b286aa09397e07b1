#include "sys/state_digest.hpp"

#include "lib/digest_writer.hpp"
#include "lib/mem.hpp"
#include "vm/device.hpp"
#include "vm/swap_pager.hpp"
#include "vm/vm_object.hpp"
#include "vm/vnode.hpp"

// Locking: the digest is taken only while no thread runs core code (the end
// of a run), so it reads every structure without taking its lock; each
// function is exempt from the thread-safety analysis for that reason.

namespace vm {
namespace {

// The smallest index >= `from` (in `object`'s numbering, below `end`) at which
// some object of the chain has a resident page or one on swap; `end` if
// none. Only such indices can show non-zero bytes, so sparse regions cost
// what they hold.
u64 next_candidate(const VmObject* object, u64 from, u64 end) NO_THREAD_SAFETY_ANALYSIS {
  u64 best = end;
  u64 shift = 0;  // index in the current chain object = index in `object` + shift
  for (const VmObject* o = object; o != nullptr; shift += o->backing_offset, o = o->backing) {
    const Page* p = o->resident.lower_bound(from + shift);
    if (p != nullptr && p->index >= shift && p->index - shift < best) best = p->index - shift;
    const u64 swapped = swap_pager_next(o, from + shift);
    if (swapped != ~u64{0} && swapped >= shift && swapped - shift < best) best = swapped - shift;
  }
  return best;
}

// The bytes `object` shows at `index` without paging anything in: a
// resident page of the chain, or one on swap (read into `scratch`); nullptr
// when no object of the chain holds it.
const u8* shown_bytes(Kernel& k, const VmObject* object, u64 index,
                      u8* scratch) NO_THREAD_SAFETY_ANALYSIS {
  for (const VmObject* o = object; o != nullptr; index += o->backing_offset, o = o->backing) {
    if (const Page* p = o->resident.find(index)) return k.vm.pages.data(p);
    if (swap_pager_peek(k.vm, o, index, scratch)) return scratch;
  }
  return nullptr;
}

// The bytes a file page holds without paging it in: the page cache, or the
// disk. `scratch` receives disk reads.
const u8* file_page_bytes(Kernel& k, Vnode& f, u64 index, u8* scratch) NO_THREAD_SAFETY_ANALYSIS {
  if (Page* p = vm_object_lookup(f.object, index)) return k.vm.pages.data(p);
  k.vm.platform.disk_read(f.disk_id, index, scratch);
  return scratch;
}

void digest_anonymous_pages(Kernel& k, const Region& r, DigestWriter& w) NO_THREAD_SAFETY_ANALYSIS {
  u8 scratch[kPageSize];
  const u64 end = r.offset + r.pages();
  for (u64 i = next_candidate(r.object, r.offset, end); i < end;
       i = next_candidate(r.object, i + 1, end)) {
    const u8* bytes = shown_bytes(k, r.object, i, scratch);
    if (bytes != nullptr) w.page(r.start + ((i - r.offset) << kPageShift), bytes);
  }
}

// Every page of a file mapping below the file's end can hold data (the file
// content), resident or not; pages wholly past the end are left out (§7).
void digest_file_pages(Kernel& k, const Region& r, DigestWriter& w) NO_THREAD_SAFETY_ANALYSIS {
  u8 scratch[kPageSize];
  Vnode& f = *r.file;
  for (vaddr_t va = r.start; va < r.end && r.file_page_of(va) < f.pages(); va += kPageSize) {
    const u8* bytes = shown_bytes(k, r.object, r.index_of(va), scratch);
    w.page(va, bytes != nullptr ? bytes : file_page_bytes(k, f, r.file_page_of(va), scratch));
  }
}

// A device mapping's pages are the device's frames, read where they are.
void digest_device_pages(Kernel& k, const Region& r, DigestWriter& w) NO_THREAD_SAFETY_ANALYSIS {
  const Device& d = *r.object->device;
  for (vaddr_t va = r.start; va < r.end; va += kPageSize)
    w.page(va, k.vm.platform.phys(d.page_pa(r.index_of(va))));
}

const Device* region_device(const Region& r) NO_THREAD_SAFETY_ANALYSIS {
  return r.object->kind == VmObject::Kind::kDevice ? r.object->device : nullptr;
}

void digest_process(Kernel& k, Process& p, DigestWriter& w) NO_THREAD_SAFETY_ANALYSIS {
  AddressSpace& as = *p.as;
  w.begin_process(p.name);
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r)) {
    const char* file = r->file != nullptr ? r->file->name : nullptr;
    const Device* d = region_device(*r);
    const u64 offset = d != nullptr ? r->offset : r->file_page;
    w.mapping(DigestMapping{r->start, r->end, r->prot, r->share, file, offset << kPageShift,
                            d != nullptr ? d->name : nullptr});
  }
  w.end_mappings();
  // Pages no object on the chain holds are zero, and zero pages are not listed.
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r)) {
    if (region_device(*r) != nullptr) {
      digest_device_pages(k, *r, w);
    } else if (r->file != nullptr) {
      digest_file_pages(k, *r, w);
    } else {
      digest_anonymous_pages(k, *r, w);
    }
  }
}

// A file's own bytes: the page cache or the disk, zero past its end (bytes a
// mapping wrote there are not part of the file).
void digest_file(Kernel& k, Vnode& f, DigestWriter& w) NO_THREAD_SAFETY_ANALYSIS {
  u8 scratch[kPageSize];
  u8 page[kPageSize];
  w.file(f.name, f.size);
  for (u64 index = 0; index < f.pages(); ++index) {
    mem_copy(page, file_page_bytes(k, f, index, scratch), kPageSize);
    const u64 start = index << kPageShift;
    if (f.size - start < kPageSize)
      mem_set(page + (f.size - start), 0, kPageSize - (f.size - start));
    w.file_page(start, page);
  }
}

// A device's bytes, where they are (spec §10).
void digest_device(Kernel& k, const Device& d, DigestWriter& w) NO_THREAD_SAFETY_ANALYSIS {
  w.device(d.name, d.size_pages << kPageShift);
  for (u64 index = 0; index < d.size_pages; ++index)
    w.device_page(index << kPageShift, k.vm.platform.phys(d.page_pa(index)));
}

}  // namespace

void state_digest(Kernel& kernel, char out_hex[65]) NO_THREAD_SAFETY_ANALYSIS {
  DigestWriter w;
  for (Process* p = kernel.processes.front(); p != nullptr; p = kernel.processes.next(p))
    digest_process(kernel, *p, w);
  for (Vnode* f = kernel.files.front(); f != nullptr; f = kernel.files.next(f))
    digest_file(kernel, *f, w);
  for (Device* d = kernel.devices.front(); d != nullptr; d = kernel.devices.next(d))
    digest_device(kernel, *d, w);
  w.finish(out_hex);
}

}  // namespace vm
