#include "json_forms.hpp"

#include <vector>

#include "address_layout.hpp"

namespace vmsim::tracegen {

std::string hex_string(uint64_t value) {
  static const char kDigits[] = "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[value & 0xf]);
    value >>= 4;
  } while (value != 0);
  return "0x" + digits;
}

Json size_json(Prng& rng, uint64_t bytes) {
  struct Unit {
    const char* suffix;
    uint64_t scale;
  };
  static const Unit kUnits[] = {{"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
  std::vector<Unit> fitting;
  if (bytes != 0) {
    for (const Unit& unit : kUnits) {
      if (bytes % unit.scale == 0) fitting.push_back(unit);
    }
  }
  const uint64_t roll = rng.below(100);
  if (!fitting.empty() && roll < 35) {
    const Unit& unit = rng.pick(fitting);
    return std::to_string(bytes / unit.scale) + unit.suffix;
  }
  if (roll < 60) return hex_string(bytes);
  if (bytes >= kJsonSafeInt) return hex_string(bytes);
  return bytes;
}

Json address_json(uint64_t address) {
  if (address >= kJsonSafeInt) return hex_string(address);
  return address;
}

std::string label_ref(const std::string& label, uint64_t offset) {
  if (offset == 0) return "@" + label;
  return "@" + label + "+" + hex_string(offset);
}

Json value_json(Prng& rng, uint64_t value) {
  if (value >= kJsonSafeInt || rng.chance(20)) return hex_string(value);
  return value;
}

}  // namespace vmsim::tracegen
