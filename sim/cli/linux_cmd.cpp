#include "cli/linux_cmd.hpp"

#include <cstdio>
#include <variant>

#include "linux/linux_run.hpp"
#include "run/report.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

int worse(int a, int b) {
  return a > b ? a : b;
}

int report_error(int code, const std::string& message) {
  std::fprintf(stderr, "vmsim: linux: %s\n", message.c_str());
  return code;
}

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// The simulator's run of the same trace: it must pass, with Linux's digest.
int compare_with_simulator(const Trace& trace, const RunReport& linux_report, bool json) {
  auto result = run_trace(trace, RunOptions{});
  if (auto* e = std::get_if<RunError>(&result))
    return report_error(e->exit_code, "the simulator cannot replay it: " + e->message);
  const RunReport& sim = std::get<RunReport>(result);
  const std::string sim_digest = sim.digest.value_or("(none)");
  const bool same = sim.digest && linux_report.digest && *sim.digest == *linux_report.digest;
  if (!json) {
    print("  simulator: " + std::string(sim.pass() ? "pass" : "VIOLATION") + ", digest " +
          sim_digest + (same ? "  (equal)" : "  (DIFFERENT)") + "\n");
  }
  int code = sim.pass() ? 0 : 1;
  if (!sim.pass()) code = report_error(1, trace.file + ": the simulator reports a violation");
  if (!same) {
    code = worse(code, report_error(1, trace.file + ": digests differ: Linux " +
                                           linux_report.digest.value_or("(none)") + ", simulator " +
                                           sim_digest));
  }
  return code;
}

int run_one(const LinuxCmdOptions& o, const std::string& file) {
  auto loaded = load_trace_file(file);
  if (auto* e = std::get_if<LoadError>(&loaded)) return report_error(2, e->message);
  const Trace& trace = std::get<Trace>(loaded);
  LinuxRunOptions options;
  options.compare = o.compare;
  options.tmp_base = o.tmp_dir;
  std::vector<std::string> notes;
  if (o.skip_refused) {
    if (std::optional<RunError> e = check_linux_supported(trace)) {
      std::fprintf(stderr, "vmsim: linux: skipped: %s\n", e->message.c_str());
      return 0;
    }
  }
  auto result = run_on_linux(trace, options, &notes);
  if (auto* e = std::get_if<RunError>(&result)) return report_error(e->exit_code, e->message);
  const RunReport& r = std::get<RunReport>(result);
  for (const std::string& n : notes) std::fprintf(stderr, "vmsim: linux: note: %s\n", n.c_str());
  print(o.json ? report_json(r) + "\n" : report_text(r));
  int code = r.exit_code();
  if (o.compare) code = worse(code, compare_with_simulator(trace, r, o.json));
  return code;
}

}  // namespace

CLI::App* add_linux(CLI::App& app, LinuxCmdOptions* o) {
  CLI::App* cmd = app.add_subcommand(
      "linux", "Replay traces on this machine's Linux kernel (real processes, real accesses)");
  cmd->add_option("traces", o->traces, "Trace files")->required();
  cmd->add_flag("--compare", o->compare,
                "Also replay in the simulator: every op's outcome and the digest must agree");
  cmd->add_flag("--json", o->json, "One JSON result per trace");
  cmd->add_option("--tmpdir", o->tmp_dir,
                  "Where the private directory of the trace's files is made "
                  "(default: $TMPDIR, else /dev/shm, else /tmp)");
  cmd->add_flag("--skip-refused", o->skip_refused,
                "Report a trace that cannot run on Linux as skipped (stderr, with the reason) "
                "instead of failing with exit 2");
  return cmd;
}

int cmd_linux(const LinuxCmdOptions& o) {
  int code = 0;
  for (const std::string& f : o.traces) code = worse(code, run_one(o, f));
  return code;
}

}  // namespace vmsim
