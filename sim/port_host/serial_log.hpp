// What the port kernel said on its serial line (docs/port.md, "Serial
// protocol"): info lines `vmsim-port: ...`, a line `PANIC: message` on a
// panic, and exactly one result line starting with `{` (the JSON object
// `vmsim replay --json` prints). Anything else (firmware chatter) is ignored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "port_host/child_process.hpp"

namespace vmsim::port {

inline constexpr const char* kInfoPrefix = "vmsim-port: ";
inline constexpr const char* kPanicPrefix = "PANIC: ";

struct SerialLog {
  bool booted = false;                       // saw `vmsim-port: boot`
  std::optional<double> boot_seconds;        // host time the boot line arrived
  std::optional<double> first_op_seconds;    // host time `vmsim-port: first-op` arrived
  std::optional<double> stress_end_seconds;  // stress mode: `vmsim-port: stress-end` arrived
  std::vector<std::string> panics;           // messages of `PANIC:` lines
  std::vector<std::string> results;          // every line starting with `{`
  std::vector<std::string> tail;             // the last lines, for error messages
};

SerialLog parse_serial(const std::vector<TimedLine>& lines);

// The last lines of the log, indented, one per line (for error messages).
std::string format_tail(const SerialLog& log);

}  // namespace vmsim::port
