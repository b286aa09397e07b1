#include "explore/choice_node.hpp"

#include <algorithm>

namespace vmsim::explore {

bool asleep(const SleepSet& sleep, size_t thread) {
  return std::any_of(sleep.begin(), sleep.end(),
                     [&](const SleepEntry& e) { return e.thread == thread; });
}

void add_sleepers(SleepSet& into, const SleepSet& more) {
  for (const SleepEntry& e : more)
    if (!asleep(into, e.thread)) into.push_back(e);
}

void wake_dependent(SleepSet& sleep, const Footprint& ran) {
  std::erase_if(sleep, [&](const SleepEntry& e) { return e.footprint.conflicts(ran); });
}

}  // namespace vmsim::explore
