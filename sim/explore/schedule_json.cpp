#include "explore/schedule_json.hpp"

namespace vmsim::explore {

nlohmann::ordered_json step_to_json(const TakenStep& step) {
  nlohmann::ordered_json j;
  j["thread"] = step.thread;
  switch (step.kind) {
    case TakenStep::Kind::kOps:
      j["ops"] = step.ops;
      break;
    case TakenStep::Kind::kUntil:
      j["until"] = step.point;
      if (step.count != 1) j["count"] = step.count;
      break;
    case TakenStep::Kind::kRun:
      break;
  }
  return j;
}

nlohmann::ordered_json schedule_to_json(const std::vector<TakenStep>& steps) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const TakenStep& s : steps) j.push_back(step_to_json(s));
  return j;
}

std::optional<std::vector<TakenStep>> schedule_from_json(const nlohmann::ordered_json& j) {
  if (!j.is_array()) return std::nullopt;
  std::vector<TakenStep> steps;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("thread") || !e["thread"].is_string()) return std::nullopt;
    TakenStep s;
    s.thread = e["thread"].get<std::string>();
    if (e.contains("ops")) {
      if (!e["ops"].is_number_unsigned()) return std::nullopt;
      s.kind = TakenStep::Kind::kOps;
      s.ops = e["ops"].get<uint64_t>();
    } else if (e.contains("until")) {
      if (!e["until"].is_string()) return std::nullopt;
      s.kind = TakenStep::Kind::kUntil;
      s.point = e["until"].get<std::string>();
      if (e.contains("count")) {
        if (!e["count"].is_number_unsigned()) return std::nullopt;
        s.count = e["count"].get<uint64_t>();
      }
    } else {
      s.kind = TakenStep::Kind::kRun;
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

}  // namespace vmsim::explore
