// `--bug NAME` and `--list-bugs`: the core's mutation switches
// (core/vm/mutation.hpp) on the command line. `replay`, `explore` and
// `minimize` run the core with the named protections turned off.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace CLI {
class App;
}

namespace vmsim {

// A name that is no mutation: the message lists the valid ones (exit 2).
struct UnknownBug {
  std::string message;
};

// The vm::Mutation bits of `names` (repeats allowed), or why not.
std::variant<uint64_t, UnknownBug> parse_bugs(const std::vector<std::string>& names);

// One line per mutation, "NAME  DESCRIPTION", names aligned, in bit order.
std::string bug_list();

// Adds to the top-level `app`: `--bug NAME` (repeatable; the names land in
// `names`) and `--list-bugs` (prints bug_list() and exits 0, no subcommand
// needed). Call app.fallthrough() before adding subcommands so that `--bug`
// may also follow the subcommand.
void add_bug_options(CLI::App& app, std::vector<std::string>& names);

}  // namespace vmsim
