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

#include "cli/count_option.hpp"
#include "cli/report_error.hpp"
#include "cli/version.hpp"
#include "explore/report_json.hpp"
#include "explore/search.hpp"
#include "explore/trace_program.hpp"
#include "explore/worker_pool.hpp"
#include "lib/sha256.hpp"
#include "run/runner.hpp"
#include "trace/trace_loader.hpp"

namespace vmsim {
namespace {

using explore::ExploreReport;
using Json = nlohmann::ordered_json;

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
    std::fprintf(stderr, "\r\033[K%llu runs  %zu outcomes  %zu violations  %s %zu",
                 static_cast<unsigned long long>(r.runs()), r.outcomes.size(), r.failures.size(),
                 pct ? "seed" : "bound", level);
    if (r.reduction == explore::Reduction::kDpor && !pct)
      std::fprintf(stderr, "  %zu classes  %zu queued", r.classes.size(), r.backtrack_queue);
    std::fprintf(stderr, "  %.0f runs/s", secs > 0 ? r.runs() / secs : 0.0);
  }

 private:
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// What makes shard reports parts of one search: the same vmsim, trace
// bytes, mutation switches and search settings. `--merge` joins only
// reports that agree on all of it.
Json search_identity(const std::string& trace_file, const ExploreCommand& cmd, uint64_t mutations,
                     const explore::Shard& shard) {
  std::ifstream in(trace_file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  vm::Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  vm::u8 digest[32];
  sha.finish(digest);
  std::string hex;
  for (vm::u8 b : digest) {
    static const char* kHex = "0123456789abcdef";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  Json id;
  id["vmsim"] = kVersion;
  id["trace_sha256"] = hex;
  id["mutations"] = mutations;
  id["sanity"] = cmd.sanity;
  id["strategy"] = cmd.strategy;
  if (cmd.strategy == "pct") {
    id["seeds"] = cmd.seeds;
    id["depth"] = cmd.depth;
  } else {
    id["bound"] = cmd.bound;
    id["reduction"] = cmd.no_por ? "none" : cmd.reduction;
  }
  id["stop_on_first"] = !cmd.all;
  id["max_runs"] = cmd.max_runs;
  id["shards"] = shard.count;
  return id;
}

// Prints the verdict, writes failure traces; returns the exit code.
int finish(const ExploreReport& r, const std::string& trace_file, const ExploreCommand& cmd,
           bool shard_report, const Json& identity = Json()) {
  if (r.error_code != 0) return report_error(r.error_code, r.error);
  std::vector<std::string> written;
  if (!shard_report && !r.failures.empty()) {
    explore::WriteError error;
    written = explore::write_failure_traces(trace_file, r, cmd.out, &error);
    if (error.exit_code != 0) return report_error(error.exit_code, error.message);
  }
  if (cmd.json || shard_report) {
    Json j = explore::report_to_json(r, written, shard_report);
    j["trace"] = trace_file;
    if (shard_report) j["search"] = identity;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s", explore::report_text(r, written).c_str());
  }
  return r.failures.empty() ? 0 : 1;
}

int merge_command(const ExploreCommand& cmd) {
  std::vector<ExploreReport> parts;
  std::string trace_file;
  Json identity;
  std::vector<std::string> shard_file;  // by shard index: the report that holds it
  for (const std::string& file : cmd.merge) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return report_error(2, file + ": cannot open");
    Json j = Json::parse(in, nullptr, false);
    std::string error;
    std::optional<ExploreReport> r =
        j.is_discarded() ? std::nullopt : explore::report_from_json(j, &error);
    if (!r) return report_error(2, file + ": " + (error.empty() ? "not JSON" : error));
    if (!j.contains("search") || !j["search"].is_object())
      return report_error(2, file + ": not a shard report (vmsim explore --shard I/N writes one)");
    if (identity.is_null()) {
      identity = j["search"];
      shard_file.assign(r->shard.count, "");
    }
    for (const auto& [key, value] : identity.items())
      if (j["search"].value(key, Json()) != value)
        return report_error(2, file + ": search." + key + " is " +
                                   j["search"].value(key, Json()).dump() + ", but " +
                                   cmd.merge.front() + " has " + value.dump() +
                                   ": shard reports of different searches cannot be merged");
    if (r->shard.count != shard_file.size() || r->shard.index >= shard_file.size())
      return report_error(2, file + ": shard " + std::to_string(r->shard.index) + "/" +
                                 std::to_string(r->shard.count) + " does not fit the others");
    if (!shard_file[r->shard.index].empty())
      return report_error(2, file + ": shard " + std::to_string(r->shard.index) +
                                 " again (also in " + shard_file[r->shard.index] + ")");
    shard_file[r->shard.index] = file;
    if (trace_file.empty()) trace_file = j.value("trace", std::string());
    parts.push_back(std::move(*r));
  }
  for (size_t i = 0; i < shard_file.size(); ++i)
    if (shard_file[i].empty())
      return report_error(2, "explore --merge: shard " + std::to_string(i) + "/" +
                                 std::to_string(shard_file.size()) + " is missing");
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
  sub->add_option("--reduction", cmd.reduction,
                  "Partial-order reduction (bounded): dpor, sleep-sets or none")
      ->check(CLI::IsMember({"dpor", "sleep-sets", "none"}))
      ->default_str("dpor");
  sub->add_flag("--no-por", cmd.no_por, "No partial-order reduction (--reduction none)");
  sub->add_option("--seeds", cmd.seeds, "Runs, one per seed (pct)")
      ->check(kNotNegative)
      ->default_str("100");
  sub->add_option("--depth", cmd.depth, "Bug depth d: d-1 priority change points (pct)")
      ->check(CLI::Range(1, 64))
      ->default_str("3");
  sub->add_option("--max-runs", cmd.max_runs, "Stop after this many runs (per worker)")
      ->check(kNotNegative);
  sub->add_option("--time-limit", cmd.time_limit, "Stop after this many seconds")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--all", cmd.all, "Go on past the first bound (or seed) that found a violation");
  sub->add_option("--jobs", cmd.jobs, "Worker processes")->check(CLI::Range(1, 256));
  sub->add_option("--shard", cmd.shard, "Explore only shard I of N (I/N); prints a shard report");
  sub->add_flag("--json", cmd.json, "Print the report as one JSON object");
  sub->add_flag("--sanity", cmd.sanity,
                "Every run under slab sanity checks (as replay --sanity; docs/kernel-memory.md)");
  sub->add_option("--out", cmd.out, "Directory for the failing traces")->default_str("explore-out");
  sub->add_option("--merge", cmd.merge, "Join shard reports (from --shard) into the verdict")
      ->excludes("trace");
}

int run_explore_command(const ExploreCommand& cmd, uint64_t mutations) {
  if (!cmd.merge.empty()) return merge_command(cmd);
  if (cmd.trace.empty()) return report_error(2, "explore: a trace file or --merge is required");
  explore::Shard shard;
  if (!cmd.shard.empty()) {
    std::optional<explore::Shard> s = parse_shard(cmd.shard);
    if (!s) return report_error(2, "explore: --shard wants I/N with I < N, got " + cmd.shard);
    shard = *s;
  }
  auto loaded = load_trace_file(cmd.trace);
  if (auto* e = std::get_if<LoadError>(&loaded)) return report_error(2, e->message);
  const Trace& trace = std::get<Trace>(loaded);

  RunOptions run_options;
  run_options.mutations = mutations;
  run_options.slab_sanity = cmd.sanity;
  const explore::RunOnce run_once = explore::trace_run_once(trace, run_options);
  explore::ExploreOptions options;
  options.strategy = cmd.strategy == "pct" ? explore::Strategy::kPct : explore::Strategy::kBounded;
  options.bound = cmd.bound;
  options.reduction =
      cmd.no_por ? explore::Reduction::kNone : *explore::reduction_from_name(cmd.reduction);
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
  return finish(report, cmd.trace, cmd, !cmd.shard.empty(),
                search_identity(cmd.trace, cmd, mutations, shard));
}

}  // namespace vmsim
