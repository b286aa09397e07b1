#include "cli/bug_option.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "vm/mutation.hpp"

namespace vmsim {
namespace {

const vm::MutationInfo* find_mutation(const std::string& name) {
  for (const vm::MutationInfo& m : vm::kMutations)
    if (name == m.name) return &m;
  return nullptr;
}

std::string known_names() {
  std::string names;
  for (const vm::MutationInfo& m : vm::kMutations) {
    if (!names.empty()) names += ", ";
    names += m.name;
  }
  return names;
}

}  // namespace

std::variant<uint64_t, UnknownBug> parse_bugs(const std::vector<std::string>& names) {
  uint64_t bits = 0;
  for (const std::string& name : names) {
    const vm::MutationInfo* m = find_mutation(name);
    if (m == nullptr)
      return UnknownBug{"--bug: unknown mutation \"" + name + "\" (known: " + known_names() + ")"};
    bits |= vm::mutation_bit(m->mutation);
  }
  return bits;
}

std::string bug_list() {
  size_t width = 0;
  for (const vm::MutationInfo& m : vm::kMutations) width = std::max(width, std::strlen(m.name));
  std::string out;
  for (const vm::MutationInfo& m : vm::kMutations) {
    out += m.name;
    out.append(width + 2 - std::strlen(m.name), ' ');
    out += m.description;
    out += '\n';
  }
  return out;
}

void add_bug_options(CLI::App& app, std::vector<std::string>& names) {
  app.add_option("--bug", names,
                 "Turn off one protection of the core (repeatable; see --list-bugs); "
                 "for replay, explore and minimize")
      ->type_name("NAME")
      ->allow_extra_args(false);  // one name per --bug: trace files may follow
  // Runs during parsing, before a missing subcommand is an error.
  app.add_flag_callback(
      "--list-bugs",
      [] {
        const std::string list = bug_list();
        std::fwrite(list.data(), 1, list.size(), stdout);
        throw CLI::Success();
      },
      "List the mutation switches --bug accepts, one per line, and exit");
}

}  // namespace vmsim
