// Physical memory as the kernel sees it, and its page tables.
//
// Physical layout: [0, kKernelPhys) is the VM core's RAM (the trace's
// machine.memory, from physical 0, as the core requires); the kernel image
// is loaded at kKernelPhys, QEMU puts the multiboot information and the trace
// module right after it, and the boot allocator hands out what follows, up
// to the end of that RAM range in the multiboot memory map.
//
// Virtual layout (upper half, shared by every address space):
//   kDirectMap            all of the first 4 GiB of physical memory (2 MiB pages)
//   kKernelVma + phys     the kernel image
//   kUserStubVa           the user access stubs, user-executable, read-only
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "multiboot.hpp"

namespace port {

inline constexpr uint64_t kKernelPhys = 0xA000000;
inline constexpr uint64_t kUserStubVa = 0xffffffffff600000;

// Reads the memory map, finishes the kernel page tables and sets up the boot
// allocator above everything the loader placed. Panics if RAM is missing.
void memory_init(const MultibootInfo* mbi);

// RAM the core may own: [0, core_ram_limit()).
uint64_t core_ram_limit();
// Panics unless every page of the first MiB below `bytes` keeps what is written.
void check_core_ram(uint64_t bytes);

// Zeroed memory from the boot allocator (never freed); panics when exhausted.
void* boot_alloc(size_t bytes, size_t align);
// Like boot_alloc, but not zeroed: for a large range whose user tracks what
// it wrote (the swap device), so no page of it is touched up front.
void* boot_reserve(size_t bytes, size_t align);
// Bytes the boot allocator still has.
uint64_t boot_alloc_room();
template <typename T>
T* boot_alloc_array(size_t n) {
  return static_cast<T*>(boot_alloc(n * sizeof(T), alignof(T) > 16 ? alignof(T) : 16));
}

// Slab sanity (docs/kernel-memory.md): maps [0, bytes) of the direct map in
// 4 KiB pages (before the other CPUs start), so that one frame can be made
// read-only to the kernel itself (CR0.WP is set at boot).
void direct_map_in_small_pages(uint64_t bytes);
// This CPU's view only: another CPU may keep a stale entry until it is
// dropped (docs/kernel-memory.md says what that costs).
void direct_map_set_writable(uint64_t pa, bool writable);

// The PML4 whose upper half every address space copies (physical address).
uint64_t kernel_root_phys();
// A PML4 like the kernel's plus an identity map of the first GiB, for the
// application processors' way into long mode (physical, below 4 GiB).
uint64_t ap_boot_root_phys();

}  // namespace port
