// How a command says it cannot go on: "vmsim: MESSAGE" on standard error;
// returns the exit code (spec §6) for the caller to pass on.
#pragma once

#include <cstdio>
#include <string>

namespace vmsim {

inline int report_error(int code, const std::string& message) {
  std::fprintf(stderr, "vmsim: %s\n", message.c_str());
  return code;
}

}  // namespace vmsim
