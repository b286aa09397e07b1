#include "trace/value_syntax.hpp"

namespace vmsim {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal digits without leading zeros ("0" itself is fine): a leading zero
// reads as octal to C programmers, so it is refused rather than guessed.
Decoded decode_decimal(std::string_view s, uint64_t* out) {
  if (s.empty() || (s[0] == '0' && s.size() > 1)) return Decoded::kInvalid;
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return Decoded::kInvalid;
    unsigned d = static_cast<unsigned>(c - '0');
    if (v > (UINT64_MAX - d) / 10) overflow = true;
    v = v * 10 + d;
  }
  if (overflow) return Decoded::kOverflow;
  *out = v;
  return Decoded::kOk;
}

}  // namespace

Decoded decode_hex(std::string_view s, uint64_t* out) {
  if (!s.starts_with("0x") || s.size() == 2) return Decoded::kInvalid;
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s.substr(2)) {
    int d = hex_digit(c);
    if (d < 0) return Decoded::kInvalid;
    if (v >> 60) overflow = true;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  if (overflow) return Decoded::kOverflow;
  *out = v;
  return Decoded::kOk;
}

Decoded decode_size(std::string_view s, uint64_t* out) {
  if (s.starts_with("0x")) return decode_hex(s, out);
  unsigned shift = 0;
  for (auto [suffix, bits] : {std::pair{"KiB", 10u}, {"MiB", 20u}, {"GiB", 30u}}) {
    if (s.ends_with(suffix)) {
      s.remove_suffix(3);
      shift = bits;
      break;
    }
  }
  uint64_t v;
  Decoded d = decode_decimal(s, &v);
  if (d != Decoded::kOk) return d;
  if (shift && v > (UINT64_MAX >> shift)) return Decoded::kOverflow;
  *out = v << shift;
  return Decoded::kOk;
}

Decoded decode_address(std::string_view s, AddrExpr* out) {
  if (!s.starts_with("@")) {
    uint64_t v;
    Decoded d = decode_hex(s, &v);
    if (d == Decoded::kOk) *out = AddrExpr{"", v};
    return d;
  }
  s.remove_prefix(1);
  size_t plus = s.find('+');  // '+' cannot occur in a name
  std::string_view name = s.substr(0, plus);
  if (!is_name(name)) return Decoded::kInvalid;
  uint64_t displacement = 0;
  if (plus != std::string_view::npos) {
    std::string_view disp = s.substr(plus + 1);
    Decoded d = disp.starts_with("0x") ? decode_hex(disp, &displacement)
                                       : decode_decimal(disp, &displacement);
    if (d != Decoded::kOk) return d;
  }
  *out = AddrExpr{std::string(name), displacement};
  return Decoded::kOk;
}

std::optional<uint8_t> decode_prot(std::string_view s) {
  uint8_t bits = 0;
  for (char c : s) {
    uint8_t bit = c == 'r' ? kR : c == 'w' ? kW : c == 'x' ? kX : 0;
    if (bit == 0 || (bits & bit)) return std::nullopt;
    bits |= bit;
  }
  return bits;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

}  // namespace vmsim
