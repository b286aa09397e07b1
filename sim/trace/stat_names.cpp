#include "trace/stat_names.hpp"

#include <algorithm>
#include <iterator>

namespace vmsim {
namespace {

// One entry per counter the run reports; keep in step with the reporter.
constexpr std::string_view kStatNames[] = {
    "ops",
    "accesses",
    "faults",
    "faults_zero_fill",
    "signals_segv",
    "signals_bus",
    "tlb_page_invalidations",
    "tlb_full_flushes",
    "frames_peak",
    "page_table_pages_peak",
    "regions_peak",
    "cow_copies",
    "zero_page_maps",
    "collapses",
    "max_chain",
};

}  // namespace

bool is_known_stat(std::string_view name) {
  return std::find(std::begin(kStatNames), std::end(kStatNames), name) != std::end(kStatNames);
}

}  // namespace vmsim
