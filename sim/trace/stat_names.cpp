#include "trace/stat_names.hpp"

#include <algorithm>
#include <iterator>

#include "sys/run_stats.hpp"

namespace vmsim {

bool is_known_stat(std::string_view name) {
  return std::find(std::begin(vm::kRunStatNames), std::end(vm::kRunStatNames), name) !=
         std::end(vm::kRunStatNames);
}

}  // namespace vmsim
