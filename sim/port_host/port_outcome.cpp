#include "port_host/port_outcome.hpp"

#include <nlohmann/json.hpp>

namespace vmsim::port {
namespace {

// What the kernel and QEMU said besides the result: panics, the serial
// tail, QEMU's own stderr.
std::string evidence(const ChildResult& qemu, const SerialLog& log) {
  std::string s;
  for (const std::string& p : log.panics) s += "  PANIC: " + p + "\n";
  if (!log.booted) s += "  (no `vmsim-port: boot` line: the kernel never started)\n";
  s += "  last serial lines:\n" + format_tail(log);
  if (!qemu.err.empty()) {
    const std::string err = qemu.err.size() > 2000 ? qemu.err.substr(0, 2000) + "..." : qemu.err;
    s += "  QEMU stderr:\n  ! ";
    for (size_t i = 0; i < err.size(); ++i) {
      s += err[i];
      if (err[i] == '\n' && i + 1 < err.size()) s += "  ! ";
    }
    if (err.back() != '\n') s += '\n';
  }
  return s;
}

PortOutcome fail(int code, const std::string& what, const ChildResult& qemu, const SerialLog& log) {
  return {code, "", what + "\n" + evidence(qemu, log)};
}

// Checks the single result line against the exit status the kernel chose.
PortOutcome from_result(bool passed, const ChildResult& qemu, const SerialLog& log) {
  const int status = qemu.exit_status;
  if (log.results.size() != 1) {
    return fail(3,
                "protocol error: QEMU exited " + std::to_string(status) +
                    " but the kernel printed " + std::to_string(log.results.size()) +
                    " result lines (expected exactly one line starting with '{')",
                qemu, log);
  }
  const std::string& line = log.results[0];
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("result") || !j.contains("digest")) {
    return fail(3, "protocol error: the result line is not a JSON object with result and digest",
                qemu, log);
  }
  const bool met = !j.contains("expect") || j["expect"].value("met", false);
  const bool json_pass = j["result"] == "pass" && met;
  if (json_pass != passed) {
    return fail(3,
                "protocol error: QEMU exited " + std::to_string(status) +
                    " but the result line says result " + j["result"].dump() +
                    (met ? "" : " with unmet expectations"),
                qemu, log);
  }
  return {passed ? 0 : 1, line, ""};
}

}  // namespace

PortOutcome classify(const ChildResult& qemu, const SerialLog& log, double timeout_seconds) {
  if (!qemu.started) return {3, "", "cannot start QEMU: " + qemu.start_error};
  if (qemu.timed_out) {
    return fail(3,
                "hang: QEMU did not exit within " +
                    std::to_string(static_cast<int>(timeout_seconds)) +
                    " s and was killed (raise --timeout if the trace is just long)",
                qemu, log);
  }
  if (qemu.signal != 0)
    return fail(3, "QEMU was killed by signal " + std::to_string(qemu.signal), qemu, log);
  switch (qemu.exit_status) {
    case kQemuPass:
      return from_result(true, qemu, log);
    case kQemuViolation:
      return from_result(false, qemu, log);
    case kQemuBadImage:
      return fail(2, "the kernel refused the trace image as unusable (exit 37)", qemu, log);
    case kQemuPanic:
      return fail(3,
                  log.panics.empty() ? "kernel internal error (exit 39)"
                                     : "kernel panic: " + log.panics.front() + " (exit 39)",
                  qemu, log);
    case kQemuTripleFault:
      return fail(3, "triple fault: the guest reset (QEMU exit 0 under -no-reboot)", qemu, log);
    default:
      return fail(3,
                  "QEMU failed (exit " + std::to_string(qemu.exit_status) +
                      "; the kernel exits only with 33, 35, 37 or 39)",
                  qemu, log);
  }
}

}  // namespace vmsim::port
