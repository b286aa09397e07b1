#include "trace/diagnostics.hpp"

#include <cstdio>

#include "trace/json_reader.hpp"

namespace vmsim::json {
namespace {

// Longest rendering of a found value, in characters (code points).
constexpr size_t kMaxShown = 40;

bool is_identifier(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

}  // namespace

std::string path_key(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!is_identifier(key)) return out + "[" + quote(key) + "]";
  if (!out.empty()) out += '.';
  return out += key;
}

std::string path_index(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  size_t shown = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!is_continuation(c) && shown++ == kMaxShown) {
      out += "...";
      break;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out += '"';
}

std::string describe(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return v.boolean() ? "true" : "false";
    case Type::kNumber: {
      std::string_view text = v.text();  // ASCII, as written
      if (text.size() <= kMaxShown) return std::string(text);
      return std::string(text.substr(0, kMaxShown)) + "...";
    }
    case Type::kString:
      return quote(v.text());
    case Type::kArray:
      return v.items().begin() == v.items().end() ? "an empty array" : "an array";
    case Type::kObject:
      return v.members().begin() == v.members().end() ? "an empty object" : "an object";
  }
  return "?";
}

}  // namespace vmsim::json
