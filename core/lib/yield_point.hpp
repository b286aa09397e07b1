// The catalogue of yield points (spec §4, docs/yield-points.md). The names
// are part of the trace format: schedules name them in `until` steps.
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
  kCount,
};

inline constexpr const char* kYieldPointNames[] = {
    "fault.begin",       "fault.lookup_done",   "fault.pager_io",
    "fault.pte_install", "resize.begin",        "resize.pages_removed",
    "cow.copy",          "collapse.begin",      "munmap.pte_cleared",
    "tlb.shootdown",     "pageout.pte_cleared", "pageout.io",
    "poke.retry",
};
static_assert(sizeof(kYieldPointNames) / sizeof(kYieldPointNames[0]) ==
              static_cast<size_t>(YieldPoint::kCount));

constexpr const char* yield_point_name(YieldPoint p) {
  return kYieldPointNames[static_cast<size_t>(p)];
}

}  // namespace vm
