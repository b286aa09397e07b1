// Strict parsing of the numbers tracegen takes on its command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vmsim::tracegen {

// A non-negative integer in decimal or "0x" hex; nullopt if malformed (signs,
// spaces, junk) or above 2^64-1.
std::optional<uint64_t> parse_uint(const std::string& text);

// A size as the trace format spells it (spec §1): "4096", "0x1000", "64KiB",
// "16MiB", "1GiB"; nullopt if malformed or above 2^64-1.
std::optional<uint64_t> parse_size(const std::string& text);

}  // namespace vmsim::tracegen
