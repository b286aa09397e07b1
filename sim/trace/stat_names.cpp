#include "trace/stat_names.hpp"

#include <algorithm>
#include <iterator>

#include "replay/run_stats.hpp"

namespace vmsim {

bool is_known_stat(std::string_view name) {
  return std::find(std::begin(replay::kRunStatNames), std::end(replay::kRunStatNames), name) !=
         std::end(replay::kRunStatNames);
}

}  // namespace vmsim
