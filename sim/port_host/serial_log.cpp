#include "port_host/serial_log.hpp"

#include <cstring>

namespace vmsim::port {
namespace {

constexpr size_t kTailLines = 12;

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

}  // namespace

SerialLog parse_serial(const std::vector<TimedLine>& lines) {
  SerialLog log;
  for (const TimedLine& line : lines) {
    const std::string& t = line.text;
    if (starts_with(t, kInfoPrefix)) {
      const std::string info = t.substr(std::strlen(kInfoPrefix));
      if (starts_with(info, "boot") && !log.booted) {
        log.booted = true;
        log.boot_seconds = line.seconds;
      }
      if (starts_with(info, "first-op") && !log.first_op_seconds)
        log.first_op_seconds = line.seconds;
      if (starts_with(info, "stress-end") && !log.stress_end_seconds)
        log.stress_end_seconds = line.seconds;
    } else if (starts_with(t, kPanicPrefix)) {
      log.panics.push_back(t.substr(std::strlen(kPanicPrefix)));
    } else if (starts_with(t, "{")) {
      log.results.push_back(t);
    }
  }
  const size_t from = lines.size() > kTailLines ? lines.size() - kTailLines : 0;
  for (size_t i = from; i < lines.size(); ++i) log.tail.push_back(lines[i].text);
  return log;
}

std::string format_tail(const SerialLog& log) {
  if (log.tail.empty()) return "  (the serial line stayed silent)\n";
  std::string s;
  for (const std::string& t : log.tail) {
    // A result line can be long; its start is enough here.
    s += "  | " + (t.size() > 200 ? t.substr(0, 200) + "..." : t) + "\n";
  }
  return s;
}

}  // namespace vmsim::port
