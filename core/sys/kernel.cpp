#include "sys/kernel.hpp"

#include "lib/mem.hpp"
#include "sys/named_list.hpp"
#include "vm/tlb_batch.hpp"
#include "vm/vm_object.hpp"

namespace vm {

Status Kernel::boot(u64 ram_bytes, u64 reserved_frames, u64 swap_slots, u64 compressor_bytes) {
  Status s = vm.boot(ram_bytes, reserved_frames, swap_slots, compressor_bytes);
  if (s != Status::kOk) return s;
  process_slab.init("process", vm.pages, vm.platform);
  vnode_slab.init("vnode", vm.pages, vm.platform);
  device_slab.init("device", vm.pages, vm.platform);
  return Status::kOk;
}

Process* Kernel::create_process(const char* name, bool privileged) {
  const size_t len = str_length(name);
  if (len > Process::kMaxName || find_process(name) != nullptr) return nullptr;
  Process* p = process_slab.create();
  if (p == nullptr) return nullptr;
  AddressSpace* as = vm_map_create(vm);
  if (as == nullptr) {
    process_slab.destroy(p);
    return nullptr;
  }
  {
    UseScope use(p);
    p->as = as;
    mem_copy(p->name, name, len + 1);
    p->privileged = privileged;
  }
  vm.platform.touched(&processes);  // (k): no lock orders the list
  insert_by_name(processes, p);
  return p;
}

Process* Kernel::find_process(const char* name) {
  return find_by_name(processes, name);
}

Process* Kernel::process_after(const char* name) {
  for (Process* p = processes.front(); p != nullptr; p = processes.next(p))
    if (name == nullptr || str_compare(p->name, name) > 0) return p;
  return nullptr;
}

// Also for an OOM kill inside another process's op: whatever the victim's
// threads do next depends on it (Platform::touched).
void Kernel::destroy_process(Process* p) {
  vm.platform.touched(&processes);  // (k): no lock orders the list
  processes.remove(p);
  vm.block_cache.drop_owner(p->cache);
  vm_map_destroy(vm, p->as);
  process_slab.destroy(p);
}

// Drops the reference a file or a device holds on its memory object.
static void drop_object(Vm& vm, VmObject* object) {
  TlbBatch batch(vm.platform, vm.pages);
  vm_object_deallocate(vm, object, batch);
  batch.flush();
}

void Kernel::destroy_all() {
  while (Process* p = processes.front()) destroy_process(p);
  while (Vnode* f = files.front()) {
    files.remove(f);
    drop_object(vm, f->object);
    vnode_slab.destroy(f);
  }
  while (Device* d = devices.front()) {
    devices.remove(d);
    drop_object(vm, d->object);
    device_slab.destroy(d);
  }
}

}  // namespace vm

namespace vm {

Status Kernel::fork_process(Process* parent, const char* child_name, Process** child_out) {
  Process* child = create_process(child_name, parent->privileged);
  if (child == nullptr) return Status::kNoMem;
  if (vm_map_fork(vm, *parent->as, *child->as) != Status::kOk) {
    destroy_process(child);
    return Status::kNoMem;
  }
  *child_out = child;
  return Status::kOk;
}

}  // namespace vm
