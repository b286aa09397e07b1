#include "trace_writer.hpp"

namespace vmsim::tracegen {

namespace {

using Json = nlohmann::ordered_json;

std::string key_prefix(const std::string& key) {
  return Json(key).dump() + ":";
}

void write_thread(const Json& thread, std::string& out) {
  out += "    {";
  bool first = true;
  for (const auto& [key, value] : thread.items()) {
    if (key == "ops") continue;
    if (!first) out += ",";
    first = false;
    out += key_prefix(key) + value.dump();
  }
  const Json& ops = thread.at("ops");
  if (!first) out += ",";
  out += key_prefix("ops") + "[";
  for (size_t i = 0; i < ops.size(); ++i) {
    out += i == 0 ? "\n" : ",\n";
    out += "      " + ops[i].dump();
  }
  out += ops.empty() ? "]}" : "\n    ]}";
}

}  // namespace

std::string format_trace(const Json& trace) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : trace.items()) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "  " + key_prefix(key) + " ";
    if (key == "threads" && value.is_array()) {
      out += "[";
      for (size_t i = 0; i < value.size(); ++i) {
        out += i == 0 ? "\n" : ",\n";
        write_thread(value[i], out);
      }
      out += value.empty() ? "]" : "\n  ]";
    } else {
      out += value.dump();
    }
  }
  out += "\n}\n";
  return out;
}

}  // namespace vmsim::tracegen
