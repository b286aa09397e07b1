// `vmsim explore` and `vmsim explore --merge` (docs/explore.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vmsim {

struct ExploreCommand {
  CLI::App* sub = nullptr;
  std::string trace;
  std::string strategy = "bounded";
  size_t bound = 2;
  bool no_por = false;
  std::string reduction = "dpor";
  uint64_t seeds = 100;
  size_t depth = 3;
  uint64_t max_runs = 0;
  double time_limit = 0;
  bool all = false;  // do not stop after the first failing bound / seed
  size_t jobs = 1;
  std::string shard;  // "I/N"
  bool json = false;
  bool sanity = false;  // every run under slab sanity (replay --sanity)
  std::string out = "explore-out";
  std::vector<std::string> merge;
};

void add_explore_command(CLI::App& app, ExploreCommand& cmd);
int run_explore_command(const ExploreCommand& cmd, uint64_t mutations);

}  // namespace vmsim
