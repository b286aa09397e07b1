// Devices (spec §10, vm/device.hpp): created at boot, mapped by privileged
// processes only.
#include "lib/mem.hpp"
#include "sys/kernel.hpp"
#include "sys/named_list.hpp"
#include "vm/vm_object.hpp"

namespace vm {

Device* Kernel::create_device(const char* name, paddr_t pa, u64 size_pages) {
  const size_t len = str_length(name);
  if (len > Device::kMaxName || find_device(name) != nullptr) return nullptr;
  if (size_pages == 0 || size_pages > (~u64{0} >> kPageShift)) return nullptr;
  // Checked first and registered last: a device that cannot be made leaves
  // no range behind.
  if (!vm.pages.device_range_available(pa, size_pages << kPageShift)) return nullptr;
  Device* d = device_slab.create();
  if (d == nullptr) return nullptr;
  VmObject* object = vm_object_allocate(vm, VmObject::Kind::kDevice, size_pages);
  if (object == nullptr) {
    device_slab.destroy(d);
    return nullptr;
  }
  vm.pages.register_device_range(pa, size_pages << kPageShift);  // available, checked above
  {
    UseScope use_object(object);  // neither is published yet
    UseScope use(d);
    object->device = d;
    d->object = object;
    mem_copy(d->name, name, len + 1);
    d->pa = pa;
    d->size_pages = size_pages;
  }
  insert_by_name(devices, d);
  return d;
}

Device* Kernel::find_device(const char* name) {
  return find_by_name(devices, name);
}

}  // namespace vm
