#include "number_parse.hpp"

namespace vmsim::tracegen {

namespace {

std::optional<uint64_t> parse_digits(const std::string& digits, uint64_t base) {
  if (digits.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (value > (UINT64_MAX - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() > suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::optional<uint64_t> parse_uint(const std::string& text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return parse_digits(text.substr(2), 16);
  }
  return parse_digits(text, 10);
}

std::optional<uint64_t> parse_size(const std::string& text) {
  struct Unit {
    const char* suffix;
    uint64_t scale;
  };
  static const Unit kUnits[] = {{"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
  for (const Unit& unit : kUnits) {
    if (!ends_with(text, unit.suffix)) continue;
    const auto count = parse_digits(text.substr(0, text.size() - 3), 10);
    if (!count || *count > UINT64_MAX / unit.scale) return std::nullopt;
    return *count * unit.scale;
  }
  return parse_uint(text);
}

}  // namespace vmsim::tracegen
