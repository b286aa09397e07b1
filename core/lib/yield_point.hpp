// The catalogue of yield points (spec §4, docs/yield-points.md): places in
// the core where a thread may be stopped. Their names, part of the trace
// format, are the replay engine's (engine/sched/yield_point_named.hpp).
#pragma once

#include "lib/types.hpp"

namespace vm {

enum class YieldPoint : u8 {
  kFaultBegin,          // fault.begin
  kFaultLookupDone,     // fault.lookup_done
  kFaultPagerIo,        // fault.pager_io
  kFaultPteInstall,     // fault.pte_install
  kResizeBegin,         // resize.begin
  kResizePagesRemoved,  // resize.pages_removed
  kCowCopy,             // cow.copy
  kCollapseBegin,       // collapse.begin
  kMunmapPteCleared,    // munmap.pte_cleared
  kTlbShootdown,        // tlb.shootdown
  kPageoutPteCleared,   // pageout.pte_cleared
  kPageoutIo,           // pageout.io
  kPokeRetry,           // poke.retry
  kSwapAlloc,           // swap.alloc
  kForkProtect,         // fork.protect
  kCompressStore,       // compress.store
  kCachePutCopied,      // cache.put_copied
  kThpSplit,            // thp.split
  kCount,
};

}  // namespace vm
