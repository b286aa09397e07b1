// The kernel's own virtual address space, apart from the direct map and the
// image: one vmem arena (core/vm/vmem.hpp) over [kKernelVaBase, +kKernelVaSize),
// its ranges mapped with 4 KiB pages of boot frames. Kernel stacks come from
// it with an unmapped guard page below each, so an overflow faults instead of
// running into whatever lies below (docs/port.md "Kernel virtual memory").
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace port {

inline constexpr uint64_t kKernelVaBase = 0xffffc00000000000;  // PML4 slot 384
inline constexpr uint64_t kKernelVaSize = uint64_t{1} << 30;   // one page directory

// Builds the arena and its top page tables. Before the first address space:
// address spaces copy the kernel's PML4 entries when they are made.
void kernel_va_init();

// A kernel stack of `bytes` (rounded up to pages) whose page below is left
// unmapped; returns its lowest usable byte. Panics when the space is used up.
uint8_t* kernel_stack_alloc(size_t bytes);

// Whether `va` lies in a guard page: in the arena, unmapped, with a mapped
// stack page right above it.
bool kernel_stack_guard(uint64_t va);

// The guard pages' proof (`vmsim port run --stress stack-overflow`): a
// kernel thread on such a stack recurses without end; the run must stop in
// a panic naming the guard page, never write below its stack.
[[noreturn]] void overflow_kernel_stack();

// The arena's audit (vm::VmemArena::check); nullptr when sound.
const char* kernel_va_check();

}  // namespace port
