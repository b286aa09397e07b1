// The string forms of trace values (spec §1): sizes, hex numbers, addresses
// with labels, protections and names. Pure functions on text; the loader
// decides which JSON types reach them and words the errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "trace/trace.hpp"

namespace vmsim {

enum class Decoded { kOk, kInvalid, kOverflow };  // kOverflow: well-formed, above 2^64 - 1

// "0x" followed by hex digits of either case.
Decoded decode_hex(std::string_view s, uint64_t* out);

// "4096" (no leading zeros), "0x1000", or a decimal integer with a binary
// suffix: "64KiB", "2MiB", "1GiB".
Decoded decode_size(std::string_view s, uint64_t* out);

// "0x...", "@label", "@label+0x2000" or "@label+4096". Plain decimal
// strings are not addresses.
Decoded decode_address(std::string_view s, AddrExpr* out);

// Letters r, w, x, each at most once, any order; "" is no access.
std::optional<uint8_t> decode_prot(std::string_view s);

// A thread, process, file or label name: [A-Za-z_][A-Za-z0-9_.-]{0,63}.
bool is_name(std::string_view s);

}  // namespace vmsim
