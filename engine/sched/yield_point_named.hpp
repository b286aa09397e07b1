// Yield points by name (spec §4, docs/yield-points.md): schedules name them
// in `until` steps, results and timelines print them. The core knows only
// the enum (core/lib/yield_point.hpp); names live at the edges.
#pragma once

#include "lib/yield_point.hpp"

namespace replay {

using vm::YieldPoint;

inline constexpr const char* kYieldPointNames[] = {
    "fault.begin",       "fault.lookup_done",   "fault.pager_io",
    "fault.pte_install", "resize.begin",        "resize.pages_removed",
    "cow.copy",          "collapse.begin",      "munmap.pte_cleared",
    "tlb.shootdown",     "pageout.pte_cleared", "pageout.io",
    "poke.retry",        "swap.alloc",          "fork.protect",
    "compress.store",    "cache.put_copied",    "thp.split",
};
static_assert(sizeof(kYieldPointNames) / sizeof(kYieldPointNames[0]) ==
              static_cast<size_t>(YieldPoint::kCount));

// The name of `p`; "?" for kCount (no yield point).
constexpr const char* yield_point_name(YieldPoint p) {
  return p < YieldPoint::kCount ? kYieldPointNames[static_cast<size_t>(p)] : "?";
}

// The yield point named `name`; YieldPoint::kCount when none is (such a
// point is never reached).
YieldPoint yield_point_named(const char* name);

}  // namespace replay
