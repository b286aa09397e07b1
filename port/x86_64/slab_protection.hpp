// Slab sanity on the port (docs/kernel-memory.md, "Slab sanity"): the core's
// RAM is direct-mapped in 4 KiB pages, a frame the core wants read-only
// loses the W bit there, and with CR0.WP set (boot.S) the kernel's own write
// to it is a #PF, which comes here before the kernel-trap panic.
#pragma once

#include <stdint.h>

#include "vm/slab_sanity.hpp"

namespace port {

// Asked for on the kernel command line (`vmsim port run --sanity`).
bool sanity_requested(const char* cmdline);

// Splits the direct map of the core's RAM [0, ram_bytes), before the other
// CPUs start (they never cache its 2 MiB entries).
void slab_protection_prepare(uint64_t ram_bytes);
bool slab_protection_prepared();
// Trapped writes to that RAM go to `sanity` from now on.
void slab_protection_attach(vm::SlabSanity& sanity);

// A ring-0 write fault at `cr2` (error code `error`): true when it was a
// write to a protected slab frame, now handled (return and retry).
bool slab_protection_trap(uint64_t cr2, uint64_t error);

}  // namespace port
