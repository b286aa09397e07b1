#include "port_host/result_report.hpp"

#include <nlohmann/json.hpp>

namespace vmsim::port {

std::optional<RunReport> report_from_json(const std::string& line, const std::string& file,
                                          std::string* error) {
  // ordered_json keeps the kernel's stat order, which is the report's order.
  using Json = nlohmann::ordered_json;
  try {
    const Json j = Json::parse(line);
    RunReport r;
    r.file = file;
    r.trace = j.at("trace").get<std::string>();
    for (const Json& v : j.at("violations")) {
      Violation out;
      out.kind = v.at("kind").get<std::string>();
      out.message = v.at("message").get<std::string>();
      if (v.contains("thread") && v["thread"].is_string()) out.thread = v["thread"];
      if (v.contains("op") && v["op"].is_number_integer()) out.op = v["op"];
      if (v.contains("step") && v["step"].is_number_integer()) out.step = v["step"];
      r.violations.push_back(std::move(out));
    }
    for (auto it = j.at("stats").begin(); it != j.at("stats").end(); ++it)
      r.stats.emplace_back(it.key(), it.value().get<int64_t>());
    if (j.at("digest").is_string()) r.digest = j["digest"].get<std::string>();
    if (j.contains("schedule")) {
      for (const Json& s : j["schedule"]) {
        TakenStep step;
        step.thread = s.at("thread").get<std::string>();
        if (s.contains("ops")) {
          step.ops = s["ops"].get<uint64_t>();
        } else if (s.contains("until")) {
          step.kind = TakenStep::Kind::kUntil;
          step.point = s["until"].get<std::string>();
          step.count = s.at("count").get<uint64_t>();
        } else {
          step.kind = TakenStep::Kind::kRun;
        }
        r.schedule.push_back(std::move(step));
      }
    }
    if (j.contains("expect")) {
      r.has_expect = true;
      for (const Json& u : j["expect"].at("unmet")) r.unmet.push_back(u.get<std::string>());
      if (!j["expect"].at("met").get<bool>() && r.unmet.empty())
        r.unmet.push_back("(the kernel reports its expectations unmet without saying which)");
    }
    // A violation result must carry its violations, or the text would say "pass".
    if (j.at("result") == "violation" && r.violations.empty())
      r.violations.push_back(
          {"(unknown)", "the kernel reports a violation without details", "", -1, -1});
    return r;
  } catch (const std::exception& e) {
    *error = std::string("unreadable result line from the kernel: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace vmsim::port
