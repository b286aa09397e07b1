// Yield points by name: schedules name them (`until` steps) and the
// simulator's scheduling points carry names.
#pragma once

#include "lib/yield_point.hpp"

namespace vm::sched {

// The yield point named `name`; YieldPoint::kCount when none is (such a
// point is never reached).
YieldPoint yield_point_named(const char* name);

}  // namespace vm::sched
