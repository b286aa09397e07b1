// Where a replay asks its scheduler who runs next (spec §4): before anything
// ran, at every yield point, op end and block, and when a thread is done.
// The one scheduling vocabulary of both machines and of the explorer.
#pragma once

#include "lib/types.hpp"
#include "lib/yield_point.hpp"

namespace replay {

using vm::u64;
using vm::u8;
using vm::YieldPoint;

// Why the scheduler is being asked.
enum class PointKind : u8 {
  kStart,    // before anything ran
  kYield,    // the running thread reached a yield point inside an op
  kOpEnd,    // the running thread finished an op (and has more)
  kBlocked,  // the running thread blocked on a lock or a busy page
  kDone,     // the running thread finished its last op (or its process exited)
};

// A thread index that names no thread.
inline constexpr long kNoThread = -1;

struct SchedulePoint {
  PointKind kind = PointKind::kStart;
  long current = kNoThread;               // who ran the last segment; kNoThread at kStart
  YieldPoint point = YieldPoint::kCount;  // kYield: where it stopped
  // The threads that can run now, ascending and never empty (the run reports
  // a deadlock or ends instead of asking). The caller owns the storage.
  const size_t* enabled = nullptr;
  size_t enabled_count = 0;

  bool is_enabled(size_t thread) const {
    for (size_t i = 0; i < enabled_count; ++i)
      if (enabled[i] == thread) return true;
    return false;
  }
};

}  // namespace replay
