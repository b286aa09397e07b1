#include "sys/state_digest.hpp"

#include "lib/digest_writer.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

// The smallest index >= `from` (in `object`'s numbering, below `end`) at which
// some object of the chain has a resident page; `end` if none. Only such
// indices can show non-zero bytes, so sparse regions cost what is resident.
u64 next_candidate(const VmObject* object, u64 from, u64 end) {
  u64 best = end;
  u64 shift = 0;  // index in the current chain object = index in `object` + shift
  for (const VmObject* o = object; o != nullptr; shift += o->backing_offset, o = o->backing) {
    const Page* p = o->resident.lower_bound(from + shift);
    if (p != nullptr && p->index >= shift && p->index - shift < best) best = p->index - shift;
  }
  return best;
}

void digest_region_pages(Kernel& kernel, const Region& r, DigestWriter& w) {
  const u64 end = r.offset + r.pages();
  for (u64 i = next_candidate(r.object, r.offset, end); i < end;
       i = next_candidate(r.object, i + 1, end)) {
    VmObject* owner = nullptr;
    Page* page = vm_object_lookup_chain(r.object, i, &owner);
    if (page != nullptr) w.page(r.start + ((i - r.offset) << kPageShift), kernel.vm.pages.data(page));
  }
}

void digest_process(Kernel& kernel, Process& p, DigestWriter& w) {
  AddressSpace& as = *p.as;
  w.begin_process(p.name);
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r))
    w.mapping(DigestMapping{r->start, r->end, r->prot, r->share, nullptr, 0});
  w.end_mappings();
  // Pages no object on the chain holds are zero, and zero pages are not listed.
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r))
    digest_region_pages(kernel, *r, w);
}

}  // namespace

void state_digest(Kernel& kernel, char out_hex[65]) {
  DigestWriter w;
  for (Process* p = kernel.processes.front(); p != nullptr; p = kernel.processes.next(p))
    digest_process(kernel, *p, w);
  w.finish(out_hex);
}

}  // namespace vm
