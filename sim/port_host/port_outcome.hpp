// How a run of the port ended, from QEMU's exit status and the serial log,
// mapped to the exit codes of spec §6 (docs/port.md, "Exit codes").
#pragma once

#include <string>

#include "port_host/child_process.hpp"
#include "port_host/serial_log.hpp"

namespace vmsim::port {

// What the kernel writes to isa-debug-exit (iobase 0xf4): QEMU exits with
// (value << 1) | 1.
inline constexpr int kQemuPass = 33;       // pass, expectations met
inline constexpr int kQemuViolation = 35;  // violation or unmet expectation
inline constexpr int kQemuBadImage = 37;   // the trace image is unusable
inline constexpr int kQemuPanic = 39;      // kernel panic or internal error
// With -no-reboot a triple fault resets the machine and QEMU exits 0.
inline constexpr int kQemuTripleFault = 0;

struct PortOutcome {
  int exit_code = 3;        // spec §6: 0 pass, 1 violation, 2 unusable input, 3 internal error
  std::string result_line;  // the kernel's JSON result, when it printed one usable line
  std::string failure;      // why the run failed outside the trace's own outcome; empty otherwise
};

// `timeout_seconds` only words the message of a hang.
PortOutcome classify(const ChildResult& qemu, const SerialLog& log, double timeout_seconds);

}  // namespace vmsim::port
