// What one run of a trace produced (spec §6), before it is printed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "run/taken_step.hpp"

namespace vmsim {

struct Violation {
  std::string kind;     // a kind from spec §6
  std::string message;  // what happened, in words
  std::string thread;   // empty when no thread is to blame (e.g. the final digest)
  long op = -1;         // index of the op in its thread's ops
  long step = -1;       // index of the step in `schedule` during which it happened
};

struct RunReport {
  std::string trace;  // the trace's name
  std::string file;
  std::vector<Violation> violations;
  std::vector<std::pair<std::string, int64_t>> stats;  // in docs/result-format.md order
  std::optional<std::string> digest;                   // none after a core panic
  std::vector<TakenStep> schedule;
  bool has_expect = false;
  std::vector<std::string> unmet;  // expectations the run did not meet

  bool pass() const { return violations.empty(); }
  // Spec §6: 0 pass and expectations met; 1 violation or unmet expectation.
  int exit_code() const { return pass() && unmet.empty() ? 0 : 1; }
};

}  // namespace vmsim
