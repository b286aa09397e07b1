#include "vm/vm_object.hpp"

#include "lib/format.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm.hpp"

namespace vm {

VmObject* vm_object_allocate(Vm& vm, VmObject::Kind kind, u64 size_pages) {
  VmObject* object = vm.objects.create(kind, size_pages);
  if (object == nullptr) return nullptr;
  vm.all_objects.push_back(object);
  return object;
}

void vm_object_reference(VmObject* object) {
  ++object->ref_count;
}

void vm_object_deallocate(Vm& vm, VmObject* object, TlbBatch& batch) {
  if (--object->ref_count > 0) return;
  vm_object_page_remove(vm, object, 0, object->size_pages, batch);
  vm.all_objects.remove(object);
  vm.objects.destroy(object);
}

Page* vm_object_lookup(VmObject* object, u64 index) {
  return object->resident.find(index);
}

void vm_object_insert(VmObject* object, Page* page, u64 index) {
  page->state = Page::State::kObject;
  page->object = object;
  page->index = index;
  page->map_count = 0;
  page->flags = 0;
  object->resident.insert(page);
}

void vm_object_page_remove(Vm& vm, VmObject* object, u64 start, u64 end, TlbBatch& batch) {
  Page* page = object->resident.lower_bound(start);
  while (page != nullptr && page->index < end) {
    Page* next = object->resident.next(page);
    if (page->map_count != 0) {
      FixedString<160> f;
      f << "vm_object_page_remove: page " << page->index << " of object " << object << " still has "
        << page->map_count << " mappings";
      vm.platform.panic(f.c_str());
    }
    object->resident.remove(page);
    page->object = nullptr;
    batch.defer_free(page);
    page = next;
  }
}

}  // namespace vm
