// A check for the unsigned counts and seeds of the command line: CLI11
// reads "-1" into a uint64_t as 2^64 - 1, so a negative is refused here, by
// its text, before the conversion (exit 2 with the option's name).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace vmsim {

inline const CLI::Validator kNotNegative(
    [](std::string& text) {
      const size_t first = text.find_first_not_of(" \t");
      return first != std::string::npos && text[first] == '-'
                 ? std::string("must not be negative, got ") + text
                 : std::string();
    },
    "NOT NEGATIVE");

}  // namespace vmsim
