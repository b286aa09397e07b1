#include "cli/machine_override.hpp"

#include <cctype>

namespace vmsim {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

// A size as spec §1 writes it; nullopt when it is not one.
std::optional<uint64_t> parse_size(const std::string& text) {
  std::string digits = text;
  uint64_t unit = 1;
  for (auto [suffix, mult] : {std::pair{"KiB", kKiB}, {"MiB", kMiB}, {"GiB", kGiB}}) {
    const std::string s = suffix;
    if (digits.size() > s.size() && digits.compare(digits.size() - s.size(), s.size(), s) == 0) {
      digits.resize(digits.size() - s.size());
      unit = mult;
      break;
    }
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    if (unit != 1) return std::nullopt;
    digits = digits.substr(2);
    base = 16;
  }
  if (digits.empty() || digits.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (base == 10 && !std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    if (base == 16 && !std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * base +
        static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c))
                                  ? c - '0'
                                  : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  if (v > UINT64_MAX / unit) return std::nullopt;
  return v * unit;
}

std::optional<std::string> read_size(const char* option, const std::string& text, uint64_t min,
                                     uint64_t max, uint64_t* out) {
  const std::optional<uint64_t> v = parse_size(text);
  if (!v || *v % 4096 != 0 || *v < min || *v > max)
    return std::string(option) + ": expected a multiple of 4096 between " + std::to_string(min) +
           " and " + std::to_string(max) + " (as 1048576, 0x100000 or 1MiB), got \"" + text + "\"";
  *out = *v;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> apply_machine_override(const MachineOverride& o, Trace& trace) {
  MachineSpec m = trace.machine;
  if (!o.memory.empty())
    if (auto e = read_size("--memory", o.memory, kMiB, 4 * kGiB, &m.memory)) return e;
  if (!o.swap.empty())
    if (auto e = read_size("--swap", o.swap, 0, 64 * kGiB, &m.swap)) return e;
  if (m.reserved >= m.memory / 2)
    return "--memory: the trace reserves " + std::to_string(m.reserved) +
           " bytes (machine.reserved), which must stay below half of memory";
  if (m.compressor > m.memory)
    return "--memory: the trace's machine.compressor is larger than " + std::to_string(m.memory);
  trace.machine = m;
  return std::nullopt;
}

}  // namespace vmsim
