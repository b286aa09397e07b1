#include "run/report.hpp"

#include <nlohmann/json.hpp>

namespace vmsim {

std::string report_json(const RunReport& r) {
  nlohmann::ordered_json j;
  j["trace"] = r.trace;
  j["result"] = r.pass() ? "pass" : "violation";
  j["violations"] = nlohmann::ordered_json::array();
  for (const Violation& v : r.violations) {
    nlohmann::ordered_json jv;
    jv["kind"] = v.kind;
    jv["message"] = v.message;
    jv["thread"] =
        v.thread.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v.thread);
    jv["op"] = v.op < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v.op);
    jv["step"] = v.step < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v.step);
    j["violations"].push_back(jv);
  }
  j["stats"] = nlohmann::ordered_json::object();
  for (const auto& [name, value] : r.stats) j["stats"][name] = value;
  j["digest"] = r.digest ? nlohmann::ordered_json(*r.digest) : nlohmann::ordered_json(nullptr);
  j["schedule"] = nlohmann::ordered_json::array();
  for (const TakenStep& s : r.schedule) {
    nlohmann::ordered_json js;
    js["thread"] = s.thread;
    if (s.kind == TakenStep::Kind::kOps) js["ops"] = s.ops;
    if (s.kind == TakenStep::Kind::kUntil) {
      js["until"] = s.point;
      js["count"] = s.count;
    }
    j["schedule"].push_back(js);
  }
  if (r.has_expect) {
    j["expect"] = {{"met", r.unmet.empty()}, {"unmet", r.unmet}};
  }
  // Invalid UTF-8 cannot occur (names are validated), but never throw here.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string stats_text(const std::vector<std::pair<std::string, int64_t>>& stats) {
  std::string s;
  for (const auto& [name, value] : stats) {
    if (!s.empty()) s += ", ";
    s += name + " " + std::to_string(value);
  }
  return s;
}

std::string report_text(const RunReport& r) {
  std::string s;
  s += r.pass() ? "pass" : "VIOLATION";
  s += "  " + r.trace + "  (" + r.file + ")\n";
  for (const Violation& v : r.violations) {
    s += "  " + v.kind + ": " + v.message;
    if (!v.thread.empty()) s += "  [thread " + v.thread + ", op " + std::to_string(v.op) + "]";
    s += "\n";
  }
  s += "  " + stats_text(r.stats);
  s += "\n  digest " + r.digest.value_or("(none: the core panicked)") + "\n";
  for (const std::string& u : r.unmet) s += "  UNMET: " + u + "\n";
  if (r.has_expect && r.unmet.empty()) s += "  expectations met\n";
  return s;
}

}  // namespace vmsim
