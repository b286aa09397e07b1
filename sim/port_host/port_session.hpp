// One trace through the port: compile its image into a scratch directory,
// boot QEMU with it, wait (with a deadline), and classify the ending.
// Shared by `vmsim port run` and the port benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "port_host/child_process.hpp"
#include "port_host/port_outcome.hpp"
#include "port_host/serial_log.hpp"

namespace vmsim::port {

struct PortTools {
  std::string vmsim;  // the binary whose `compile` command builds images
  std::string qemu;
  std::string bios;
  std::string kernel;
};

struct PortSessionOptions {
  std::string accel = "tcg";
  bool gdb = false;
  double timeout_seconds = 60;  // ignored under gdb (a debugging session has no deadline)
  uint32_t cpus = 1;            // the trace's machine.cpus
  uint64_t memory = 64 << 20;   // the trace's machine.memory, bytes
  uint64_t swap = 0;            // the trace's machine.swap, bytes
  uint64_t devices = 0;         // the trace's machine.devices, bytes together
  bool sanity = false;          // slab sanity checks (kernel command line `sanity`)
  std::function<void(const TimedLine&)> on_line;  // each serial line as it arrives
  // Called once the image is built, just before QEMU starts, with the
  // command line (for --gdb's instructions).
  std::function<void(const std::vector<std::string>& argv)> on_start;
};

struct PortSession {
  PortOutcome outcome;
  SerialLog log;
  double qemu_seconds = 0;  // QEMU's wall time, start to exit
};

PortSession run_in_port(const PortTools& tools, const std::string& trace,
                        const PortSessionOptions& options);

// The SMP stress mode (docs/port.md): no trace image; the kernel command line
// `append` names the workload (e.g. "stress=fork-cow iterations=100").
PortSession run_stress_in_port(const PortTools& tools, const std::string& append,
                               const PortSessionOptions& options);

}  // namespace vmsim::port
