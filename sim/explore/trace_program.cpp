#include "explore/trace_program.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <variant>

#include "compile/trace_compiler.hpp"
#include "explore/schedule_json.hpp"
#include "trace/value_syntax.hpp"

namespace vmsim::explore {

RunOnce trace_run_once(const Trace& trace, RunOptions options) {
  // Compiled once for all the runs; a trace that does not compile leaves
  // it to each run to report (as run_trace does).
  try {
    options.image = std::make_shared<const std::vector<uint8_t>>(compile_trace(trace));
  } catch (const std::exception&) {
    options.image = nullptr;
  }
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
                                              const std::string& out_dir, WriteError* error) {
  namespace fs = std::filesystem;
  std::vector<std::string> written;
  std::ifstream in(trace_file, std::ios::binary);
  auto original = nlohmann::ordered_json::parse(in, nullptr, false);
  if (original.is_discarded() || !original.is_object()) {
    *error = {2, trace_file + ": cannot re-read the trace"};
    return written;
  }
  // A file name is made only of text that passed the names rule (spec §2):
  // the trace's name (re-read: the file may have changed since it was
  // loaded) and each violation kind (a merge reads them from shard reports).
  const auto name_it = original.find("name");
  const std::string name =
      name_it != original.end() && name_it->is_string() ? name_it->get<std::string>() : "";
  if (!is_name(name)) {
    *error = {2, trace_file + ": name: expected a name (a letter or \"_\", then up to 63 " +
                     "letters, digits, \"_\", \".\", \"-\") to name the failure traces"};
    return written;
  }
  for (const auto& [kind, failure] : report.failures) {
    if (!is_name(kind)) {
      *error = {2, "violation kind \"" + kind + "\" cannot name a file"};
      return written;
    }
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    *error = {3, out_dir + ": " + ec.message()};
    return written;
  }
  for (const auto& [kind, failure] : report.failures) {
    nlohmann::ordered_json t = original;
    t["schedule"] = schedule_to_json(failure.schedule);
    t["expect"] = {{"result", "violation"}, {"violation", kind}};
    const std::string path = (fs::path(out_dir) / (name + "." + kind + ".json")).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << t.dump(2) << "\n";
    if (!out.good()) {
      *error = {3, path + ": cannot write"};
      return written;
    }
    written.push_back(path);
  }
  return written;
}

}  // namespace vmsim::explore
