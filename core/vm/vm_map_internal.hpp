// Helpers the map's own files share (vm_map.cpp, vm_map_cache.cpp): not for
// callers outside the map. Every one of them runs under the map lock.
#pragma once

#include "lib/types.hpp"
#include "vm/vm_map.hpp"

namespace vm {

// The end of [addr, addr + len rounded up), or false when it would reach 2^64.
bool range_end(vaddr_t addr, u64 len, vaddr_t* end);
// Clears the page-table entries of [start, end), invalidations into `batch`.
void unmap_pages(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end, TlbBatch& batch)
    REQUIRES(as.lock);
// Makes `start` and `end` region boundaries where they fall inside regions.
Status clip_range(Vm& vm, AddressSpace& as, vaddr_t start, vaddr_t end) REQUIRES(as.lock);

}  // namespace vm
