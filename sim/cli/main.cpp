// vmsim: replay memory traces through the VM core over an emulated x86-64
// MMU, checked against a reference model. See docs/cli.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/bench.hpp"
#include "cli/bug_option.hpp"
#include "cli/compile_cmd.hpp"
#include "cli/count_option.hpp"
#include "cli/explore_cmd.hpp"
#include "cli/lackey_cmd.hpp"
#include "cli/linux_cmd.hpp"
#include "cli/machine_override.hpp"
#include "cli/minimize_cmd.hpp"
#include "cli/port_run.hpp"
#include "cli/report_error.hpp"
#include "cli/version.hpp"
#include "run/report.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

// Spec §6 exit codes, combined over several traces: the worst one wins
// (internal error 3 > unusable input 2 > violation 1 > pass 0).
int worse(int a, int b) {
  return a > b ? a : b;
}

// The trace in `file`, or nullopt after reporting why it cannot be loaded.
std::optional<Trace> load_or_report(const std::string& file, int* code) {
  auto loaded = load_trace_file(file);
  if (auto* e = std::get_if<LoadError>(&loaded)) {
    *code = worse(*code, report_error(2, e->message));
    return std::nullopt;
  }
  return std::move(std::get<Trace>(loaded));
}

int cmd_check(const std::vector<std::string>& files) {
  int code = 0;
  for (const std::string& f : files) {
    std::optional<Trace> loaded = load_or_report(f, &code);
    if (!loaded) continue;
    const Trace& t = *loaded;
    std::printf("ok  %s  (%s)\n", t.name.c_str(), f.c_str());
  }
  return code;
}

int cmd_replay(const std::vector<std::string>& files, bool json, const std::string& audit,
               bool sanity, const std::string& timeline, const MachineOverride& machine,
               uint64_t mutations) {
  RunOptions options;
  options.mutations = mutations;
  options.slab_sanity = sanity;
  if (!timeline.empty() && files.size() != 1)
    return report_error(
        2, "--timeline needs exactly one trace (got " + std::to_string(files.size()) + ")");
  options.timeline = timeline;
  options.audit = audit == "off"        ? AuditMode::kOff
                  : audit == "every-op" ? AuditMode::kEveryOp
                                        : AuditMode::kEnd;
  int code = 0;
  for (const std::string& f : files) {
    std::optional<Trace> loaded = load_or_report(f, &code);
    if (!loaded) continue;
    if (std::optional<std::string> e = apply_machine_override(machine, *loaded)) {
      code = worse(code, report_error(2, *e));
      continue;
    }
    auto result = run_trace(*loaded, options);
    if (auto* e = std::get_if<RunError>(&result)) {
      code = worse(code, report_error(e->exit_code, e->message));
      continue;
    }
    const RunReport& r = std::get<RunReport>(result);
    const std::string out = json ? report_json(r) + "\n" : report_text(r);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    code = worse(code, r.exit_code());
  }
  return code;
}

int run(int argc, char** argv) {
  CLI::App app{"vmsim: a virtual-memory core over an emulated x86-64 MMU, driven by traces"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --bug may also follow the subcommand
  std::vector<std::string> bug_names;
  add_bug_options(app, bug_names);

  std::vector<std::string> files;
  bool json = false;
  std::string audit = "end";
  bool sanity = false;
  std::string timeline;
  auto* replay = app.add_subcommand("replay", "Run traces and check them against the model");
  replay->add_option("traces", files, "Trace files (vmsim-trace/1)")->required();
  replay->add_flag("--json", json, "Print one JSON result object per trace, one per line");
  replay->add_option("--timeline", timeline,
                     "Write the run as Chrome trace events (Perfetto) to this file");
  replay->add_option("--audit", audit, "When to check the core's invariants")
      ->check(CLI::IsMember({"off", "end", "every-op"}))
      ->default_str("end");
  replay->add_flag("--sanity", sanity,
                   "Slab sanity checks: slab objects read-only outside USE() "
                   "(docs/kernel-memory.md)");
  MachineOverride machine;
  replay->add_option("--memory", machine.memory,
                     "Replace machine.memory (e.g. 1MiB): replay the trace under pressure");
  replay->add_option("--swap", machine.swap, "Replace machine.swap (e.g. 16MiB)");
  replay->add_option("--compressor", machine.compressor,
                     "Replace machine.compressor (e.g. 256KiB; 0: none)");
  replay->add_option("--large-pages", machine.large_pages, "Replace machine.large_pages")
      ->check(CLI::IsMember({"never", "always", "madvise"}));

  ExploreCommand explore_cmd;
  add_explore_command(app, explore_cmd);
  MinimizeCommand minimize_cmd;
  add_minimize_command(app, minimize_cmd);

  auto* check = app.add_subcommand("check", "Validate traces without running them");
  check->add_option("traces", files, "Trace files")->required();

  std::string compile_in, compile_out;
  auto* compile =
      app.add_subcommand("compile", "Compile a trace into the binary image the port boots with");
  compile->add_option("trace", compile_in, "Trace file (vmsim-trace/1)")->required();
  compile->add_option("-o,--output", compile_out, "Image file to write")->required();

  BenchOptions bench_options;
  auto* bench = app.add_subcommand("bench", "Measure simulated faults and accesses against Linux");
  bench->add_option("--pages", bench_options.pages, "Pages per round")
      ->check(CLI::Range(16, 1 << 20));
  bench->add_option("--rounds", bench_options.rounds, "Rounds per measurement")
      ->check(CLI::Range(1, 1000));
  std::vector<std::string> memory_files;
  auto* bench_compressor = bench->add_subcommand(
      "compressor", "Compress raw memory with the core's page codec, LZ4 and zstd -1");
  bench_compressor->add_option("files", memory_files, "Files of raw memory (whole 4 KiB pages)")
      ->required();
  FragmentationOptions fragmentation_options;
  auto* bench_fragmentation = bench->add_subcommand(
      "fragmentation",
      "Share of 2 MiB blocks left whole by a churned single-frame workload, per frame policy");
  bench_fragmentation->add_option("--memory-mib", fragmentation_options.ram_mib, "RAM in MiB")
      ->check(CLI::Range(16, 4096));
  bench_fragmentation->add_option("--seed", fragmentation_options.seed, "Churn seed")
      ->check(kNotNegative);
  LargePagesBenchOptions large_pages_options;
  auto* bench_large_pages = bench->add_subcommand(
      "large-pages", "First-touch cost and TLB-missing reads, large_pages never vs always");
  bench_large_pages->add_option("--mib", large_pages_options.mib, "Region size in MiB")
      ->check(CLI::Range(2, 1024));
  bench_large_pages->add_option("--rounds", large_pages_options.rounds, "First-touch rounds")
      ->check(CLI::Range(1, 1000));
  bench_large_pages->add_option("--sweeps", large_pages_options.sweeps, "Read sweeps")
      ->check(CLI::Range(1, 10000));

  PortRunOptions port_run_options;
  CLI::App* port_run = add_port_run(app, &port_run_options);
  LinuxCmdOptions linux_options;
  CLI::App* linux_cmd = add_linux(app, &linux_options);
  LackeyCmdOptions lackey_options;
  CLI::App* lackey_cmd = add_lackey(app, &lackey_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "vmsim: %s\nRun 'vmsim --help' for usage.\n", e.what());
    return 2;
  }
  const auto mutations = parse_bugs(bug_names);
  if (const auto* e = std::get_if<UnknownBug>(&mutations)) return report_error(2, e->message);
  if (!bug_names.empty() && !replay->parsed() && !explore_cmd.sub->parsed() &&
      !minimize_cmd.sub->parsed() && !lackey_cmd->parsed())
    return report_error(2, "--bug applies to replay, explore, minimize and lackey only");
  if (replay->parsed())
    return cmd_replay(files, json, audit, sanity, timeline, machine, std::get<uint64_t>(mutations));
  if (explore_cmd.sub->parsed())
    return run_explore_command(explore_cmd, std::get<uint64_t>(mutations));
  if (minimize_cmd.sub->parsed())
    return run_minimize_command(minimize_cmd, std::get<uint64_t>(mutations));
  if (check->parsed()) return cmd_check(files);
  if (bench_compressor->parsed()) return cmd_bench_compressor(memory_files);
  if (bench_fragmentation->parsed()) return cmd_bench_fragmentation(fragmentation_options);
  if (bench_large_pages->parsed()) return cmd_bench_large_pages(large_pages_options);
  if (bench->parsed()) return cmd_bench(bench_options);
  if (compile->parsed()) return cmd_compile(compile_in, compile_out);
  if (port_run->parsed()) return cmd_port_run(port_run_options);
  if (linux_cmd->parsed()) return cmd_linux(linux_options);
  if (lackey_cmd->parsed()) return cmd_lackey(lackey_options, std::get<uint64_t>(mutations));
  return 2;
}

}  // namespace
}  // namespace vmsim

int main(int argc, char** argv) {
  try {
    return vmsim::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vmsim: internal error: %s\n", e.what());
    return 3;
  }
}
