// How the generator spells numbers in a trace (spec §1): sizes in their mixed
// forms, addresses, label references, and stored values.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "prng.hpp"

namespace vmsim::tracegen {

using Json = nlohmann::ordered_json;

// "0x" followed by lowercase hex digits.
std::string hex_string(uint64_t value);

// A size as an integer, a "0x..." string, or (when it divides evenly) an
// "NKiB" / "NMiB" / "NGiB" string, chosen at random.
Json size_json(Prng& rng, uint64_t bytes);

// An absolute address: an integer below 2^53, else a hex string.
Json address_json(uint64_t address);

// "@label" or "@label+0x...".
std::string label_ref(const std::string& label, uint64_t offset);

// A stored value: a hex string at or above 2^53; below, usually an integer and
// sometimes a hex string.
Json value_json(Prng& rng, uint64_t value);

}  // namespace vmsim::tracegen
