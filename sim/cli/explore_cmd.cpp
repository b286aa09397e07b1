// `vmsim explore TRACE`: searches the interleavings of a trace for
// violations; `--merge` joins shard reports (docs/explore.md).
#include "cli/explore_cmd.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <variant>

#include "explore/report_json.hpp"
#include "explore/search.hpp"
#include "explore/trace_program.hpp"
#include "explore/worker_pool.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

using explore::ExploreReport;
using Json = nlohmann::ordered_json;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "vmsim: %s\n", message.c_str());
  return code;
}

// "I/N" with I < N, or nullopt.
std::optional<explore::Shard> parse_shard(const std::string& text) {
  unsigned long i = 0, n = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%lu/%lu%c", &i, &n, &tail) != 2 || n == 0 || i >= n)
    return std::nullopt;
  return explore::Shard{i, n};
}

// One updating line on a terminal; nothing otherwise. The clock only feeds
// the runs/s figure and the throttle.
class ProgressLine {
 public:
  ProgressLine() : on_(::isatty(2) == 1), start_(std::chrono::steady_clock::now()) {}
  // Erases the line before the report is printed.
  void clear() {
    if (on_ && shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }
  void update(const ExploreReport& r, size_t level, bool pct) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r\033[K%llu runs  %zu outcomes  %zu violations  %s %zu  %.0f runs/s",
                 static_cast<unsigned long long>(r.runs()), r.outcomes.size(), r.failures.size(),
                 pct ? "seed" : "bound", level, secs > 0 ? r.runs() / secs : 0.0);
  }

 private:
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// Prints the verdict, writes failure traces; returns the exit code.
int finish(const ExploreReport& r, const std::string& trace_file, const ExploreCommand& cmd,
           bool shard_report) {
  if (r.error_code != 0) return fail(r.error_code, r.error);
  std::vector<std::string> written;
  if (!shard_report && !r.failures.empty()) {
    explore::WriteError error;
    written = explore::write_failure_traces(trace_file, r, cmd.out, &error);
    if (error.exit_code != 0) return fail(error.exit_code, error.message);
  }
  if (cmd.json || shard_report) {
    Json j = explore::report_to_json(r, written);
    j["trace"] = trace_file;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s", explore::report_text(r, written).c_str());
  }
  return r.failures.empty() ? 0 : 1;
}

int merge_command(const ExploreCommand& cmd) {
  std::vector<ExploreReport> parts;
  std::string trace_file;
  for (const std::string& file : cmd.merge) {
    std::ifstream in(file, std::ios::binary);
    Json j = Json::parse(in, nullptr, false);
    std::string error;
    std::optional<ExploreReport> r =
        j.is_discarded() ? std::nullopt : explore::report_from_json(j, &error);
    if (!r) return fail(2, file + ": " + (error.empty() ? "not JSON" : error));
    if (trace_file.empty()) trace_file = j.value("trace", std::string());
    parts.push_back(std::move(*r));
  }
  ExploreReport merged = explore::merge_reports(parts);
  return finish(merged, trace_file, cmd, false);
}

}  // namespace

void add_explore_command(CLI::App& app, ExploreCommand& cmd) {
  CLI::App* sub = app.add_subcommand("explore", "Search a trace's interleavings for violations");
  cmd.sub = sub;
  sub->add_option("trace", cmd.trace, "Trace file (vmsim-trace/1)");
  sub->add_option("--strategy", cmd.strategy, "bounded (exhaustive) or pct (random)")
      ->check(CLI::IsMember({"bounded", "pct"}))
      ->default_str("bounded");
  sub->add_option("--bound", cmd.bound, "Most preemptions per run (bounded)")
      ->check(CLI::Range(0, 64))
      ->default_str("2");
  sub->add_flag("--no-por", cmd.no_por, "No partial-order reduction (sleep sets)");
  sub->add_option("--seeds", cmd.seeds, "Runs, one per seed (pct)")->default_str("100");
  sub->add_option("--depth", cmd.depth, "Bug depth d: d-1 priority change points (pct)")
      ->check(CLI::Range(1, 64))
      ->default_str("3");
  sub->add_option("--max-runs", cmd.max_runs, "Stop after this many runs (per worker)");
  sub->add_option("--time-limit", cmd.time_limit, "Stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--all", cmd.all, "Go on past the first bound (or seed) that found a violation");
  sub->add_option("--jobs", cmd.jobs, "Worker processes")->check(CLI::Range(1, 256));
  sub->add_option("--shard", cmd.shard, "Explore only shard I of N (I/N); prints a shard report");
  sub->add_flag("--json", cmd.json, "Print the report as one JSON object");
  sub->add_option("--out", cmd.out, "Directory for the failing traces")->default_str("explore-out");
  sub->add_option("--merge", cmd.merge, "Join shard reports (from --shard) into the verdict")
      ->excludes("trace");
}

int run_explore_command(const ExploreCommand& cmd, uint64_t mutations) {
  if (!cmd.merge.empty()) return merge_command(cmd);
  if (cmd.trace.empty()) return fail(2, "explore: a trace file or --merge is required");
  explore::Shard shard;
  if (!cmd.shard.empty()) {
    std::optional<explore::Shard> s = parse_shard(cmd.shard);
    if (!s) return fail(2, "explore: --shard wants I/N with I < N, got " + cmd.shard);
    shard = *s;
  }
  auto loaded = load_trace_file(cmd.trace);
  if (auto* e = std::get_if<LoadError>(&loaded)) return fail(2, e->message);
  const Trace& trace = std::get<Trace>(loaded);
  if (std::optional<RunError> e = check_supported(trace)) return fail(e->exit_code, e->message);

  RunOptions run_options;
  run_options.mutations = mutations;
  const explore::RunOnce run_once = explore::trace_run_once(trace, run_options);
  explore::ExploreOptions options;
  options.strategy = cmd.strategy == "pct" ? explore::Strategy::kPct : explore::Strategy::kBounded;
  options.bound = cmd.bound;
  options.por = !cmd.no_por;
  options.seeds = cmd.seeds;
  options.depth = cmd.depth;
  options.max_runs = cmd.max_runs;
  options.time_limit = cmd.time_limit;
  options.stop_on_first = !cmd.all;
  const bool pct = options.strategy == explore::Strategy::kPct;

  ProgressLine line;
  auto search = [&](explore::Shard s, bool show) {
    explore::ExploreOptions mine = options;
    mine.shard = s;
    explore::Progress progress;
    if (show) progress = [&](const ExploreReport& r, size_t level) { line.update(r, level, pct); };
    return explore::explore(run_once, trace.threads.size(), mine, progress);
  };
  ExploreReport report =
      cmd.jobs > 1 ? explore::explore_in_workers(
                         [&](explore::Shard s) { return search(s, s.index == shard.index); },
                         cmd.jobs, shard)
                   : search(shard, true);
  line.clear();
  return finish(report, cmd.trace, cmd, !cmd.shard.empty());
}

}  // namespace vmsim
