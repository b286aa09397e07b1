// `vmsim minimize TRACE`: the smallest trace and schedule that still fail
// with the same violation kind (docs/explore.md).
#include "cli/minimize_cmd.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <variant>

#include "explore/minimizer.hpp"
#include "explore/schedule_json.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

using Json = nlohmann::ordered_json;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "vmsim: %s\n", message.c_str());
  return code;
}

// Runs the trace text; the report, or the error that kept it from running.
std::variant<RunReport, RunError> run_text(const std::string& text, const std::string& name,
                                           const RunOptions& options) {
  auto loaded = load_trace_text(text, name);
  if (auto* e = std::get_if<LoadError>(&loaded)) return RunError{2, e->message};
  return run_trace(std::get<Trace>(loaded), options);
}

}  // namespace

void add_minimize_command(CLI::App& app, MinimizeCommand& cmd) {
  CLI::App* sub =
      app.add_subcommand("minimize", "Shrink a failing trace while its violation remains");
  cmd.sub = sub;
  sub->add_option("trace", cmd.trace, "A trace that fails (e.g. from vmsim explore)")->required();
  sub->add_option("-o,--output", cmd.output, "Where to write the minimized trace (default stdout)");
  sub->add_flag("--sanity", cmd.sanity,
                "Replay every candidate under slab sanity checks (as replay --sanity)");
}

int run_minimize_command(const MinimizeCommand& cmd, uint64_t mutations) {
  std::ifstream in(cmd.trace, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return fail(2, cmd.trace + ": cannot read");
  RunOptions options;
  options.mutations = mutations;
  options.slab_sanity = cmd.sanity;
  auto first = run_text(text.str(), cmd.trace, options);
  if (auto* e = std::get_if<RunError>(&first)) return fail(e->exit_code, e->message);
  const RunReport& report = std::get<RunReport>(first);
  if (report.violations.empty()) return fail(2, cmd.trace + ": the trace does not fail");
  const std::string kind = report.violations.front().kind;

  Json trace = Json::parse(text.str());
  // The schedule the failing run took, explicit, is what the passes shrink.
  trace["schedule"] = explore::schedule_to_json(report.schedule);
  const std::string name = cmd.trace + " (candidate)";
  auto replay = [&](const Json& candidate) -> std::optional<std::vector<std::string>> {
    auto run = run_text(candidate.dump(), name, options);
    if (std::holds_alternative<RunError>(run)) return std::nullopt;
    std::vector<std::string> kinds;
    for (const Violation& v : std::get<RunReport>(run).violations) kinds.push_back(v.kind);
    return kinds;
  };
  if (!replay(trace)) return fail(3, cmd.trace + ": the run's own schedule does not replay");
  explore::MinimizeStats stats;
  Json out = explore::minimize_trace(std::move(trace), kind, replay, &stats);
  const std::string dumped = out.dump(2) + "\n";
  if (cmd.output.empty()) {
    std::fwrite(dumped.data(), 1, dumped.size(), stdout);
  } else {
    std::ofstream o(cmd.output, std::ios::binary | std::ios::trunc);
    o << dumped;
    if (!o.good()) return fail(3, cmd.output + ": cannot write");
  }
  std::fprintf(stderr,
               "minimized %s (%s): ops %zu -> %zu, schedule steps %zu -> %zu, threads %zu -> %zu, "
               "%zu runs tried\n",
               cmd.trace.c_str(), kind.c_str(), stats.ops_before, stats.ops_after,
               stats.steps_before, stats.steps_after, stats.threads_before, stats.threads_after,
               stats.runs);
  return 0;
}

}  // namespace vmsim
