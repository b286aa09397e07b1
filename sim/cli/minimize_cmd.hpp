// `vmsim minimize` (docs/explore.md).
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace vmsim {

struct MinimizeCommand {
  CLI::App* sub = nullptr;
  std::string trace;
  std::string output;   // empty: stdout
  bool sanity = false;  // every candidate under slab sanity (replay --sanity)
};

void add_minimize_command(CLI::App& app, MinimizeCommand& cmd);
int run_minimize_command(const MinimizeCommand& cmd, uint64_t mutations);

}  // namespace vmsim
