// Delta debugging (Zeller's ddmin): the smallest subset of n items, as
// kept indices, for which `fails` still holds, found by removing chunks of
// halving size. The result is 1-minimal: removing any single kept item
// makes `fails` false. `fails` is never asked about the full set.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace vmsim::explore {

using StillFails = std::function<bool(const std::vector<size_t>& kept)>;

std::vector<size_t> ddmin(size_t n, const StillFails& fails);

}  // namespace vmsim::explore
