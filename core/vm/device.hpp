// A device: a range of physical address space that is not RAM (a frame
// buffer, a ROM; spec §10). Its pages are fixed physical frames outside the
// page allocator, so they have no Page descriptor: nothing allocates, frees,
// pages out, copies or reverse-maps them. A mapping reaches them through the
// device's memory object (VmObject::Kind::kDevice: FreeBSD's OBJT_DEVICE /
// OBJT_PHYS, Zircon's physical VMOs), whose pages are never resident: the
// fault enters the device's physical address straight into the page table
// (MINIX's VR_DIRECT, Linux's VM_PFNMAP), an unmanaged PTE with no pv entry
// and no map_count. Removing such a PTE frees nothing (vm/rmap.cpp ignores
// frames that are not RAM).
//
// Where the bytes are is the machine's business: the simulator maps them at
// the trace's `phys`, the port in frames it set aside at boot
// (docs/kernel-memory.md, "Device mappings"). The core only needs `pa`, a
// page-aligned physical range disjoint from RAM that the physical window
// (Platform::phys) reaches.
#pragma once

#include "lib/list.hpp"
#include "lib/types.hpp"

namespace vm {

class VmObject;

// Locking (docs/locking.md):
//   (c) const after creation (boot)
//   (k) the kernel's device list (Kernel::devices): boot and teardown only
struct Device {
  static constexpr size_t kMaxName = 64;

  char name[kMaxName + 1] = {};  // (c)
  paddr_t pa = 0;                // (c) physical address of page 0; page aligned, not RAM
  u64 size_pages = 0;            // (c) > 0
  VmObject* object = nullptr;    // (c) its kDevice object; holds one reference for the device
  ListNode link;                 // (k) in Kernel::devices, ascending by name

  // The frame of page `index` (< size_pages).
  paddr_t page_pa(u64 index) const { return pa + (index << kPageShift); }
  // Whether [pa, pa + size) holds `frame`.
  bool holds(paddr_t frame) const { return frame >= pa && frame - pa < (size_pages << kPageShift); }
};

}  // namespace vm
