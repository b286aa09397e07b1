// How places and values are written in trace error messages: JSON paths in
// the spec's style (`threads[1].ops[4].len`) and short, one-line renderings
// of what was found.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vmsim::json {

class Value;

// `parent.key`, or `parent["odd key"]` when the key is not an identifier;
// just `key` at the top level (empty parent).
std::string path_key(std::string_view parent, std::string_view key);

// `parent[index]`.
std::string path_index(std::string_view parent, size_t index);

// `s` as a JSON string literal on one line, cut after a few dozen
// characters ("..." marks the cut). `s` must be valid UTF-8.
std::string quote(std::string_view s);

// What a message says it got: `null`, `true`, the number as written, the
// quoted string, `an array`, `an object`.
std::string describe(const Value& v);

}  // namespace vmsim::json
