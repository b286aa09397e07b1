#include "explore/trace_program.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <variant>

#include "explore/schedule_json.hpp"

namespace vmsim::explore {

RunOnce trace_run_once(const Trace& trace, RunOptions options) {
  return [&trace, options](ScheduleController& controller) {
    RunOptions o = options;
    o.controller = &controller;
    auto result = run_trace(trace, o);
    RunSummary s;
    if (auto* e = std::get_if<RunError>(&result)) {
      s.error_code = e->exit_code;
      s.error = e->message;
      return s;
    }
    const RunReport& r = std::get<RunReport>(result);
    for (const Violation& v : r.violations) s.kinds.push_back(v.kind);
    s.digest = r.digest.value_or("");
    s.schedule = r.schedule;
    return s;
  };
}

std::vector<std::string> write_failure_traces(const std::string& trace_file,
                                              const ExploreReport& report,
                                              const std::string& out_dir, std::string* error) {
  namespace fs = std::filesystem;
  std::vector<std::string> written;
  std::ifstream in(trace_file, std::ios::binary);
  auto original = nlohmann::ordered_json::parse(in, nullptr, false);
  if (original.is_discarded() || !original.is_object()) {
    *error = trace_file + ": cannot re-read the trace";
    return written;
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    *error = out_dir + ": " + ec.message();
    return written;
  }
  const std::string name = original.value("name", std::string("trace"));
  for (const auto& [kind, failure] : report.failures) {
    nlohmann::ordered_json t = original;
    t["schedule"] = schedule_to_json(failure.schedule);
    t["expect"] = {{"result", "violation"}, {"violation", kind}};
    const std::string path = (fs::path(out_dir) / (name + "." + kind + ".json")).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << t.dump(2) << "\n";
    if (!out.good()) {
      *error = path + ": cannot write";
      return written;
    }
    written.push_back(path);
  }
  return written;
}

}  // namespace vmsim::explore
