// The system above the VM: processes, each with an address space, kept in
// name order (the order the state digest walks them in).
#pragma once

#include "lib/list.hpp"
#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/block_cache.hpp"
#include "vm/device.hpp"
#include "vm/slab.hpp"
#include "vm/vm.hpp"
#include "vm/vm_map.hpp"
#include "vm/vnode.hpp"

namespace vm {

// Locking (docs/locking.md):
//   (c) const after creation
//   (k) the kernel's lists: no lock. They change only inside the create,
//       fork, exec and destroy calls, which run one at a time and never
//       sleep half-way (the simulator and the port's replay run one thread
//       between yield points; the port's SMP stress mode calls them from
//       one CPU). A walker that sleeps (truncate) walks by name, never by a
//       pointer kept across the sleep. Not checked by the compiler.
struct Process {
  static constexpr size_t kMaxName = 64;  // the trace format's name limit

  char name[kMaxName + 1] = {};  // (c)
  // (c) May map devices (spec §10; Linux's CAP_SYS_RAWIO for /dev/mem). Set
  // at creation; a forked child inherits it.
  bool privileged = false;
  AddressSpace* as = nullptr;  // (k) exec swaps it
  // Its block-cache blocks (the cache's lock): they outlive exec, not exit.
  BlockCacheOwner cache;
  ListNode link;  // (k) in Kernel::processes
};

class Kernel {
 public:
  explicit Kernel(Platform& platform) : vm(platform) {}
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  Status boot(u64 ram_bytes, u64 reserved_frames, u64 swap_slots = 0, u64 compressor_bytes = 0);

  // A new process with an empty address space; nullptr when out of memory.
  // The name must be unique and at most kMaxName bytes.
  Process* create_process(const char* name, bool privileged = false);
  Process* find_process(const char* name);
  // The first process whose name sorts after `name` (nullptr: the first
  // one). Walking with it survives processes ending while the walker sleeps.
  Process* process_after(const char* name);
  // Releases all of the process's memory.
  void destroy_process(Process* p);

  // A new process `child_name` with a copy-on-write copy of `parent`'s
  // address space; kNoMem leaves no trace of it.
  Status fork_process(Process* parent, const char* child_name, Process** child_out);

  // Replaces `p`'s address space with a fresh image (spec §3 `exec`). The new
  // space is built aside and swapped in only when complete: on kNoMem the old
  // one is untouched.
  struct ExecImage {
    u64 text = 0, data = 0, bss = 0, stack = 0;  // bytes, rounded up to pages
  };
  Status exec(Process* p, const ExecImage& image);

  // A write into `p`'s memory through the kernel, as ptrace does (spec §3
  // `poke`): private mappings are written whatever their protection, into a
  // private copy; shared ones only when writable. kFault when refused.
  Status poke(Process* p, vaddr_t addr, u32 size, u64 value);
  // Destroys every process, then every file and device (the end of a run,
  // before the leak check).
  void destroy_all();

  // Devices (spec §10, vm/device.hpp), created at boot before any process
  // maps one: `size_pages` frames at physical `pa`, which the machine placed
  // outside RAM and filled. nullptr when the name is taken or too long, the
  // range is not page-aligned, overlaps RAM or another device (or more than
  // PageAllocator::kMaxDeviceRanges are asked for), or no memory is left.
  Device* create_device(const char* name, paddr_t pa, u64 size_pages);
  Device* find_device(const char* name);

  // Files. `disk_id` names the file on the platform's disk; names are unique.
  Vnode* create_file(const char* name, u64 size, u32 disk_id);
  Vnode* find_file(const char* name);
  // Writes `len` bytes of `value` at `offset` through the page cache; the
  // file grows to cover them (spec §3 `pwrite`).
  Status pwrite(Vnode* file, u64 offset, u8 value, u64 len);
  // Resizes the file and its object (vm_object_resize): pages wholly past the
  // new end leave every mapping and the page cache; bytes past the new end
  // in its last page become zero (spec §3 `truncate`).
  Status truncate(Vnode* file, u64 size);

  Vm vm;
  TypedSlab<Process> process_slab;  // locks itself
  // (k) Invariant: every live process, ascending by name (bytewise).
  List<Process, &Process::link> processes;
  TypedSlab<Vnode> vnode_slab;  // locks itself
  // (k) Invariant: every file, ascending by name (bytewise).
  List<Vnode, &Vnode::link> files;
  TypedSlab<Device> device_slab;  // locks itself
  // (k) Invariant: every device, ascending by name (bytewise); their frames
  // are registered device ranges of the page allocator.
  List<Device, &Device::link> devices;
};

}  // namespace vm
