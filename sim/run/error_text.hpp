// One format for every message about a place in a trace:
// FILE:LINE:COL: PATH: MESSAGE (LINE:COL left out when unknown).
#pragma once

#include <string>

#include "trace/trace.hpp"

namespace vmsim {

inline std::string error_at(const std::string& file, SourceLoc loc, const std::string& path,
                            const std::string& message) {
  std::string s = file;
  if (loc.line != 0) s += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
  s += ": ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

}  // namespace vmsim
