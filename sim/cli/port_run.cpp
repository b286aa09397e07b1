#include "cli/port_run.hpp"

#include <cstdio>
#include <optional>
#include <variant>

#include "port_host/port_session.hpp"
#include "port_host/qemu_command.hpp"
#include "port_host/result_report.hpp"
#include "port_host/tools.hpp"
#include "run/report.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

int worse(int a, int b) {
  return a > b ? a : b;
}

int report_error(int code, const std::string& message) {
  std::fprintf(stderr, "vmsim: port run: %s\n", message.c_str());
  return code;
}

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// QEMU, its firmware, the kernel (and /dev/kvm): all found, or the exit code.
std::optional<port::PortTools> find_tools(const PortRunOptions& o, int* code) {
  port::PortTools tools;
  tools.vmsim = port::self_exe();
  const port::Found qemu = port::find_qemu(o.qemu);
  if (!qemu.ok()) {
    *code = report_error(2, qemu.error);
    return std::nullopt;
  }
  tools.qemu = qemu.path;
  const port::Found bios = port::find_bios(qemu.path);
  if (!bios.ok()) {
    *code = report_error(2, bios.error);
    return std::nullopt;
  }
  tools.bios = bios.path;
  const port::Found kernel = port::find_kernel(o.kernel, tools.vmsim);
  if (!kernel.ok()) {
    *code = report_error(2, kernel.error);
    return std::nullopt;
  }
  tools.kernel = kernel.path;
  if (o.accel == "kvm") {
    const port::Found kvm = port::find_kvm();
    if (!kvm.ok()) {
      *code = report_error(2, kvm.error);
      return std::nullopt;
    }
  }
  return tools;
}

void print_gdb_help(const port::PortTools& tools, const std::vector<std::string>& argv) {
  const std::string cmd = port::shell_line(argv);
  std::fprintf(stderr,
               "vmsim: port run: QEMU is waiting for gdb on localhost:1234 (CPUs stopped).\n"
               "  attach:  gdb %s -ex 'target remote :1234'\n"
               "  then e.g. 'break kernel_main', 'continue'; the serial log follows here.\n"
               "  QEMU: %s\n",
               tools.kernel.c_str(), cmd.c_str());
}

// The simulator's result for the same trace, compared with the port's.
// Returns the exit code the comparison adds (1 when they differ).
int compare_with_simulator(const Trace& trace, const RunReport& port_report, bool json,
                           const std::string& file) {
  auto result = run_trace(trace, RunOptions{});
  if (auto* e = std::get_if<RunError>(&result))
    return report_error(e->exit_code, file + ": the simulator cannot replay it: " + e->message);
  const RunReport& sim = std::get<RunReport>(result);
  const std::string sim_digest = sim.digest.value_or("(none)");
  const std::string port_digest = port_report.digest.value_or("(none)");
  const bool same = sim.digest && port_report.digest && sim_digest == port_digest;
  const bool same_result = sim.pass() == port_report.pass();
  if (!json) {
    print("  simulator: " + std::string(sim.pass() ? "pass" : "VIOLATION") + ", digest " +
          sim_digest + (same ? "  (equal)" : "  (DIFFERENT)") + "\n");
  }
  int code = sim.exit_code();
  if (!same) {
    code = worse(code, report_error(1, file + ": digests differ: port " + port_digest +
                                           ", simulator " + sim_digest));
  }
  if (!same_result) {
    code = worse(code, report_error(1, file + ": results differ: port " +
                                           (port_report.pass() ? "pass" : "violation") +
                                           ", simulator " + (sim.pass() ? "pass" : "violation")));
  }
  return code;
}

// The frames the port sets aside for the trace's devices (spec §10).
uint64_t device_bytes(const MachineSpec& m) {
  uint64_t total = 0;
  for (const DeviceSpec& d : m.devices) total += d.size;
  return total;
}

// How QEMU runs for one session: the command line's choices, the machine's
// size, and with --gdb or --serial the serial log echoed on stderr.
port::PortSessionOptions session_options_for(const port::PortTools& tools, const PortRunOptions& o,
                                             unsigned cpus, uint64_t memory, uint64_t swap,
                                             uint64_t devices = 0) {
  port::PortSessionOptions session_options;
  session_options.accel = o.accel;
  session_options.gdb = o.gdb;
  session_options.timeout_seconds = o.timeout;
  session_options.cpus = cpus;
  session_options.memory = memory;
  session_options.swap = swap;
  session_options.devices = devices;
  session_options.sanity = o.sanity;
  if (o.gdb || o.serial) {
    session_options.on_line = [](const port::TimedLine& line) {
      std::fprintf(stderr, "serial %8.3f | %s\n", line.seconds, line.text.c_str());
    };
  }
  if (o.gdb) {
    session_options.on_start = [&tools](const std::vector<std::string>& argv) {
      print_gdb_help(tools, argv);
    };
  }
  return session_options;
}

int run_one(const port::PortTools& tools, const PortRunOptions& o, const std::string& file) {
  auto loaded = load_trace_file(file);
  if (auto* e = std::get_if<LoadError>(&loaded)) return report_error(2, e->message);
  const Trace& trace = std::get<Trace>(loaded);

  port::PortSessionOptions session_options =
      session_options_for(tools, o, trace.machine.cpus, trace.machine.memory, trace.machine.swap,
                          device_bytes(trace.machine));
  const port::PortSession s = port::run_in_port(tools, file, session_options);
  if (!s.outcome.failure.empty())
    return report_error(s.outcome.exit_code, file + ": " + s.outcome.failure);

  std::string error;
  const std::optional<RunReport> report =
      port::report_from_json(s.outcome.result_line, file, &error);
  if (!report) return report_error(3, file + ": " + error);
  if (o.json) {
    print(s.outcome.result_line + "\n");
  } else {
    std::string timing = "  port: " + o.accel + ", " + std::to_string(session_options.cpus) +
                         (session_options.cpus == 1 ? " cpu" : " cpus");
    if (s.log.first_op_seconds)
      timing += ", first op after " + fixed(*s.log.first_op_seconds, 3) + " s";
    timing += ", QEMU exited after " + fixed(s.qemu_seconds, 3) + " s\n";
    print(report_text(*report) + timing);
  }
  int code = s.outcome.exit_code;
  if (o.compare) code = worse(code, compare_with_simulator(trace, *report, o.json, file));
  return code;
}

// The SMP stress mode: the kernel runs a built-in workload on every vCPU at
// once (docs/port.md, "SMP stress mode"); the result is reported as a trace's.
int run_stress(const port::PortTools& tools, const PortRunOptions& o) {
  const std::string label = "stress:" + o.stress;
  std::string append = "stress=" + o.stress + " iterations=" + std::to_string(o.iterations) +
                       " pages=" + std::to_string(o.pages);
  if (!o.stress_bug.empty()) append += " bug=" + o.stress_bug;
  // 64 MiB: the core's RAM in stress mode (stress_mode.cpp).
  port::PortSessionOptions session_options = session_options_for(tools, o, o.cpus, 64 << 20, 0);
  const port::PortSession s = port::run_stress_in_port(tools, append, session_options);
  if (!s.outcome.failure.empty())
    return report_error(s.outcome.exit_code, label + ": " + s.outcome.failure);
  std::string error;
  const std::optional<RunReport> report =
      port::report_from_json(s.outcome.result_line, label, &error);
  if (!report) return report_error(3, label + ": " + error);
  if (o.json) {
    print(s.outcome.result_line + "\n");
    return s.outcome.exit_code;
  }
  std::string timing = "  port: " + o.accel + ", " + std::to_string(o.cpus) +
                       (o.cpus == 1 ? " cpu" : " cpus") + ", QEMU exited after " +
                       fixed(s.qemu_seconds, 3) + " s\n";
  if (s.log.first_op_seconds && s.log.stress_end_seconds) {
    const double seconds = *s.log.stress_end_seconds - *s.log.first_op_seconds;
    uint64_t iterations = 0;
    for (const auto& [name, value] : report->stats)
      if (name == "iterations") iterations = static_cast<uint64_t>(value);
    timing +=
        "  stress: " + std::to_string(iterations) + " iterations in " + fixed(seconds, 3) + " s";
    if (seconds > 0) timing += " (" + fixed(iterations / seconds, 1) + " iterations/s)";
    timing += "\n";
  }
  print(report_text(*report) + timing);
  return s.outcome.exit_code;
}

}  // namespace

CLI::App* add_port_run(CLI::App& app, PortRunOptions* o) {
  CLI::App* port = app.add_subcommand("port", "The bare-metal port under QEMU");
  port->require_subcommand(1);
  CLI::App* run = port->add_subcommand("run", "Replay traces in the port kernel under QEMU");
  run->add_option("traces", o->traces, "Trace files (vmsim-trace/1)");
  run->add_option("--stress", o->stress,
                  "Instead of traces: run a workload on every vCPU at once (SMP stress mode)")
      ->check(
          CLI::IsMember({"munmap-vs-access", "fork-cow", "pageout-vs-write", "stack-overflow"}));
  run->add_option("--cpus", o->cpus, "Stress mode: vCPUs (QEMU -smp)")
      ->check(CLI::Range(1, 16))
      ->default_str("2");
  run->add_option("--iterations", o->iterations, "Stress mode: rounds of CPU 0 (the work bound)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32))
      ->default_str("100");
  run->add_option("--pages", o->pages, "Stress mode: pages of the shared region")
      ->check(CLI::Range(1, 4096))
      ->default_str("16");
  run->add_option("--stress-bug", o->stress_bug,
                  "Stress mode: turn off a protection to show the workload catches it")
      ->check(CLI::IsMember({"no-shootdown"}));
  run->add_flag("--compare", o->compare,
                "Also replay in the simulator; fail unless both digests are equal");
  run->add_flag("--gdb", o->gdb, "Start QEMU with a gdb stub on :1234, stopped; no timeout");
  run->add_option("--accel", o->accel, "QEMU accelerator")
      ->check(CLI::IsMember({"tcg", "kvm"}))
      ->default_str("tcg");
  run->add_option("--timeout", o->timeout, "Seconds before a run counts as hung")
      ->check(CLI::Range(1.0, 86400.0))
      ->default_str("60");
  run->add_option("--kernel", o->kernel,
                  "Kernel ELF (default: $VMSIM_KERNEL, else " + std::string(port::kKernelRelPath) +
                      " next to vmsim)");
  run->add_option("--qemu", o->qemu,
                  "qemu-system-x86_64 to run (default: $VMSIM_QEMU, else from PATH)");
  run->add_flag("--json", o->json, "Print one JSON result object per trace, one per line");
  run->add_flag("--sanity", o->sanity,
                "Slab sanity checks: slab objects read-only to the kernel outside USE()");
  run->add_flag("--serial", o->serial, "Echo the kernel's serial output to stderr");
  return run;
}

int cmd_port_run(const PortRunOptions& o) {
  if (!o.stress.empty() && !o.traces.empty())
    return report_error(2, "--stress runs a built-in workload: give no trace files");
  if (o.stress.empty() && o.traces.empty())
    return report_error(2, "give trace files, or --stress WORKLOAD");
  if (o.stress.empty() && !o.stress_bug.empty())
    return report_error(2, "--stress-bug needs --stress");
  if (o.gdb && o.stress.empty() && o.traces.size() != 1)
    return report_error(2, "--gdb takes exactly one trace");
  if (!o.stress.empty() && o.compare)
    return report_error(2, "--compare replays traces in the simulator; --stress has none");
  int code = 0;
  const std::optional<port::PortTools> tools = find_tools(o, &code);
  if (!tools) return code;
  if (!o.stress.empty()) return run_stress(*tools, o);
  for (const std::string& file : o.traces) code = worse(code, run_one(*tools, o, file));
  return code;
}

}  // namespace vmsim
