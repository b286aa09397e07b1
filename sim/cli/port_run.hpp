// `vmsim port run`: replays traces in the bare-metal port kernel under QEMU
// and reports them as `vmsim replay` does (docs/port.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace vmsim {

struct PortRunOptions {
  std::vector<std::string> traces;
  bool compare = false;  // also replay in the simulator; the digests must be equal
  bool gdb = false;      // QEMU waits for gdb on :1234; no timeout
  std::string accel = "tcg";
  double timeout = 60;  // seconds per trace
  std::string kernel;   // default: $VMSIM_KERNEL, else next to the vmsim binary
  std::string qemu;     // default: $VMSIM_QEMU, else qemu-system-x86_64 in PATH
  bool json = false;
  bool serial = false;  // echo the serial log to stderr as it arrives
  bool sanity = false;  // slab sanity checks in the kernel (docs/kernel-memory.md)
  // SMP stress mode instead of traces: a built-in workload on `cpus` vCPUs.
  std::string stress;  // munmap-vs-access | fork-cow | pageout-vs-write; empty: replay traces
  uint32_t cpus = 2;
  uint64_t iterations = 100;
  uint64_t pages = 16;
  std::string stress_bug;  // "no-shootdown": the kernel skips remote shootdowns
};

// Adds `port run` to `app`; the returned subcommand is parsed() when chosen.
CLI::App* add_port_run(CLI::App& app, PortRunOptions* options);

// Runs it; returns the spec §6 exit code (the worst over the traces).
int cmd_port_run(const PortRunOptions& options);

}  // namespace vmsim
