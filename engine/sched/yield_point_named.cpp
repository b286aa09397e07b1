#include "sched/yield_point_named.hpp"

namespace replay {

YieldPoint yield_point_named(const char* name) {
  if (name == nullptr) return YieldPoint::kCount;
  for (size_t i = 0; i < static_cast<size_t>(YieldPoint::kCount); ++i) {
    const char* a = kYieldPointNames[i];
    if (a == name) return static_cast<YieldPoint>(i);  // the catalogue's own string
    size_t k = 0;
    while (a[k] != '\0' && a[k] == name[k]) ++k;
    if (a[k] == name[k]) return static_cast<YieldPoint>(i);
  }
  return YieldPoint::kCount;
}

}  // namespace replay
