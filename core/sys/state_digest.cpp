#include "sys/state_digest.hpp"

#include "lib/digest_writer.hpp"
#include "vm/vm_object.hpp"

namespace vm {
namespace {

void digest_process(Kernel& kernel, Process& p, DigestWriter& w) {
  AddressSpace& as = *p.as;
  w.begin_process(p.name);
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r))
    w.mapping(DigestMapping{r->start, r->end, r->prot, r->share, nullptr, 0});
  w.end_mappings();
  // Pages not resident in the object are zero, and zero pages are not listed.
  for (Region* r = as.regions.first(); r != nullptr; r = as.regions.next(r)) {
    const u64 last = r->offset + r->pages();
    for (Page* pg = r->object->resident.lower_bound(r->offset); pg != nullptr && pg->index < last;
         pg = r->object->resident.next(pg)) {
      const vaddr_t va = r->start + ((pg->index - r->offset) << kPageShift);
      w.page(va, kernel.vm.pages.data(pg));
    }
  }
}

}  // namespace

void state_digest(Kernel& kernel, char out_hex[65]) {
  DigestWriter w;
  for (Process* p = kernel.processes.front(); p != nullptr; p = kernel.processes.next(p))
    digest_process(kernel, *p, w);
  w.finish(out_hex);
}

}  // namespace vm
