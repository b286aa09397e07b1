#include "cli/lackey_cmd.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/machine_override.hpp"
#include "cli/report_error.hpp"
#include "lackey/lackey_run.hpp"
#include "run/report.hpp"

namespace vmsim {
namespace {

std::string report_json(const LackeyReport& r) {
  nlohmann::ordered_json j;
  j["log"] = r.log;
  j["result"] = r.violation_kind.empty() ? "pass" : "violation";
  j["violations"] = nlohmann::ordered_json::array();
  if (!r.violation_kind.empty())
    j["violations"].push_back({{"kind", r.violation_kind}, {"message", r.violation}});
  j["lines"] = r.lines;
  j["accesses"] = r.accesses;
  j["references"] = r.references;
  j["stats"] = nlohmann::ordered_json::object();
  for (const auto& [name, value] : r.stats) j["stats"][name] = value;
  j["digest"] =
      r.digest.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.digest);
  if (r.has_replacement) {
    const ReplacementReport& p = r.replacement;
    j["replacement"] = {{"distinct_pages", p.distinct_pages},
                        {"capacity", p.capacity},
                        {"core_misses", p.core_misses},
                        {"lru_misses", p.lru_misses},
                        {"opt_misses", p.opt_misses}};
  } else {
    j["replacement"] = nullptr;
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string ratio(uint64_t a, uint64_t b) {
  if (b == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(a) / static_cast<double>(b));
  return buf;
}

std::string report_text(const LackeyReport& r, const LackeyOptions& o) {
  std::string s = r.violation_kind.empty() ? "pass" : "VIOLATION";
  s += "  lackey  (" + r.log + ")\n";
  if (!r.violation_kind.empty()) s += "  " + r.violation_kind + ": " + r.violation + "\n";
  s += "  " + std::to_string(r.lines) + " lines, " + std::to_string(r.accesses) +
       " data accesses, " + std::to_string(r.references) + " page references\n";
  if (r.has_replacement) {
    const ReplacementReport& p = r.replacement;
    s += "  " + std::to_string(p.distinct_pages) + " distinct pages, capacity " +
         std::to_string(p.capacity) +
         (o.resident_limit != 0 ? " (--resident-limit)" : " (resident_user_peak)") + "\n";
    s += "  misses: core " + std::to_string(p.core_misses) + " (" +
         std::to_string(p.first_touch_faults) + " first touches + " +
         std::to_string(p.core_misses - p.first_touch_faults) + " page-ins), LRU " +
         std::to_string(p.lru_misses) + ", OPT " + std::to_string(p.opt_misses) + "\n";
    s += "  core/LRU " + ratio(p.core_misses, p.lru_misses) + ", core/OPT " +
         ratio(p.core_misses, p.opt_misses) + "\n";
  }
  s += "  " + stats_text(r.stats);
  s += "\n  digest " + (r.digest.empty() ? std::string("(none)") : r.digest) + "\n";
  return s;
}

// A status line on standard error, redrawn in place.
class ProgressLine {
 public:
  explicit ProgressLine(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}

  void update(const LackeyProgress& p) {
    if (!on_) return;
    const double s = seconds();
    std::fprintf(stderr, "\rlackey: %.1f M accesses", static_cast<double>(p.accesses) / 1e6);
    if (p.file_size != 0)
      std::fprintf(stderr, ", %.0f%% of the log",
                   100.0 * static_cast<double>(p.consumed) / static_cast<double>(p.file_size));
    if (s > 0) std::fprintf(stderr, ", %.2f M/s   ", static_cast<double>(p.accesses) / s / 1e6);
    drawn_ = true;
  }
  void abandon() {
    if (drawn_) std::fputc('\n', stderr);
  }
  void done(const LackeyReport& r) {
    if (!on_) return;
    if (drawn_) std::fputc('\n', stderr);
    const double s = seconds();
    std::fprintf(stderr, "lackey: %llu accesses (%llu lines) in %.2f s: %.2f M accesses/s\n",
                 static_cast<unsigned long long>(r.accesses),
                 static_cast<unsigned long long>(r.lines), s,
                 s > 0 ? static_cast<double>(r.accesses) / s / 1e6 : 0.0);
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  bool on_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

CLI::App* add_lackey(CLI::App& app, LackeyCmdOptions* o) {
  CLI::App* sub = app.add_subcommand(
      "lackey", "Replay a valgrind lackey log (--tool=lackey --trace-mem=yes) as one process");
  sub->add_option("log", o->log, "The log: a file, or - for standard input; plain or gzip")
      ->required();
  // The defaults shown are LackeyOptions' (lackey_run.hpp).
  sub->add_option("--memory", o->machine.memory, "RAM of the machine")->default_str("256MiB");
  sub->add_option("--swap", o->machine.swap, "Swap")->default_str("1GiB");
  sub->add_option("--compressor", o->machine.compressor, "Compressor (0: none)")->default_str("0");
  sub->add_option("--resident-limit", o->resident_limit,
                  "Most resident pages the process may have (a memory-cgroup limit)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  sub->add_flag("--json", o->json, "Print the result as one JSON object");
  sub->add_flag("--progress", o->progress,
                "Show progress on standard error (the default when it is a terminal)");
  return sub;
}

int cmd_lackey(const LackeyCmdOptions& o, uint64_t mutations) {
  LackeyOptions options;
  options.mutations = mutations;
  options.resident_limit = o.resident_limit;
  if (auto e =
          read_machine_override(o.machine, &options.memory, &options.swap, &options.compressor))
    return report_error(2, *e);
  if (options.compressor > options.memory / 2)
    return report_error(2, "--compressor: " + std::to_string(options.compressor) +
                               " bytes is more than half of --memory (" +
                               std::to_string(options.memory) + ")");
  auto opened = LackeyLog::open(o.log);
  if (auto* e = std::get_if<std::string>(&opened)) return report_error(2, *e);
  LackeyLog& log = *std::get<std::unique_ptr<LackeyLog>>(opened);

  ProgressLine progress(o.progress || isatty(STDERR_FILENO) == 1);
  auto result = run_lackey(log, options, [&](const LackeyProgress& p) { progress.update(p); });
  if (auto* e = std::get_if<LackeyError>(&result)) {
    progress.abandon();
    return report_error(e->exit_code, e->message);
  }
  const LackeyReport& r = std::get<LackeyReport>(result);
  progress.done(r);
  const std::string out = o.json ? report_json(r) + "\n" : report_text(r, options);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return r.exit_code();
}

}  // namespace vmsim
