// Reads a `vmsim-trace/1` file (spec: docs/trace-format.md) into a Trace,
// checking everything the spec and the project's decisions require. A bad
// trace yields exactly one message of the form
//   FILE:LINE:COL: PATH: expected WHAT, got WHAT
// e.g. `t.json:12:17: threads[1].ops[4].len: expected a size (...), got -5`.
// Nothing here throws, crashes or hangs on any input.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "trace/trace.hpp"

namespace vmsim {

struct LoadError {
  std::string message;  // fully formatted, one line, starts with the file name
};

std::variant<Trace, LoadError> load_trace_file(const std::string& path);

// `display_name` stands for the file in messages and in Trace::file.
std::variant<Trace, LoadError> load_trace_text(std::string_view text,
                                               const std::string& display_name);

}  // namespace vmsim
