#include "trace/json_reader.hpp"

#include <cstdio>
#include <unordered_map>

#include "trace/diagnostics.hpp"

namespace vmsim::json {

// ---- Value and its ranges ---------------------------------------------------

const detail::Node& Value::node() const {
  return doc_->nodes_[index_];
}

bool Value::is_integer() const {
  return type() == Type::kNumber && number_class() != NumberClass::kReal;
}

std::optional<int64_t> Value::as_i64() const {
  if (type() != Type::kNumber || number_class() != NumberClass::kInt64) return std::nullopt;
  return static_cast<int64_t>(node().number);
}

std::optional<uint64_t> Value::as_u64() const {
  if (type() != Type::kNumber) return std::nullopt;
  if (number_class() == NumberClass::kUint64) return node().number;
  if (number_class() == NumberClass::kInt64 && static_cast<int64_t>(node().number) >= 0) {
    return node().number;
  }
  return std::nullopt;
}

std::string_view Value::text() const {
  const detail::Node& n = node();
  return std::string_view(doc_->text_).substr(n.text_offset, n.text_length);
}

ItemRange Value::items() const {
  if (type() != Type::kArray) return ItemRange(doc_, 0, 0);
  return ItemRange(doc_, index_ + 1, node().end);
}

MemberRange Value::members() const {
  if (type() != Type::kObject) return MemberRange(doc_, 0, 0);
  return MemberRange(doc_, index_ + 1, node().end);
}

std::optional<Value> Value::find(std::string_view key) const {
  for (Member m : members()) {
    if (m.key == key) return m.value;
  }
  return std::nullopt;
}

template <bool kMembers>
typename ChildRange<kMembers>::Child ChildRange<kMembers>::iterator::operator*() const {
  if constexpr (kMembers) {
    Value key(doc_, index_);
    return Member{key.text(), key.loc(), Value(doc_, index_ + 1)};
  } else {
    return Value(doc_, index_);
  }
}

// An item's subtree ends where the next item starts; a member's value's does.
template <bool kMembers>
typename ChildRange<kMembers>::iterator& ChildRange<kMembers>::iterator::operator++() {
  index_ = doc_->nodes_[kMembers ? index_ + 1 : index_].end;
  return *this;
}

template class ChildRange<false>;
template class ChildRange<true>;

// ---- Parser -----------------------------------------------------------------

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_structural(char c) {
  return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '"';
}
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7:
// no overlongs, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100;
  };
  auto in = [](unsigned b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  unsigned b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (in(b0, 0xc2, 0xdf)) return in(byte(1), 0x80, 0xbf) ? 2 : 0;
  if (in(b0, 0xe0, 0xef)) {
    unsigned lo = b0 == 0xe0 ? 0xa0 : 0x80, hi = b0 == 0xed ? 0x9f : 0xbf;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xbf) ? 3 : 0;
  }
  if (in(b0, 0xf0, 0xf4)) {
    unsigned lo = b0 == 0xf0 ? 0x90 : 0x80, hi = b0 == 0xf4 ? 0x8f : 0xbf;
    return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xbf) && in(byte(3), 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string hex_byte(unsigned b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

constexpr std::string_view kBom = "\xef\xbb\xbf";

}  // namespace

// Recursive descent, one node per value, appended in pre-order. Recursion is
// bounded by kMaxDepth, checked before descending. Errors are thrown as
// ParseError and caught by parse().
class Parser {
 public:
  Parser(std::string_view input, Document& doc) : in_(input), doc_(doc) {}

  void run() {
    if (in_.size() > kMaxInputBytes) throw ParseError{{}, std::string(kTooLargeMessage)};
    if (in_.substr(0, kBom.size()) == kBom) pos_ = kBom.size();  // column 1 follows the BOM
    size_t start = pos_;
    check_utf8();
    skip_space();
    if (at_end()) {
      throw ParseError{{}, pos_ > start ? "empty file (only whitespace)" : "empty file"};
    }
    parse_value(0);
    skip_space();
    if (!at_end()) syntax_error(here(), "end of file after the top-level value", got_here());
  }

 private:
  // One step of the path to the value being parsed, for messages.
  struct Step {
    bool is_key;
    uint32_t key_node;  // is_key
    size_t index;       // !is_key
  };

  [[noreturn]] void syntax_error(SourceLoc loc, std::string_view expected, const std::string& got) {
    throw ParseError{loc, "syntax error: expected " + std::string(expected) + ", got " + got};
  }

  SourceLoc here() const { return {line_, column_}; }
  bool at_end() const { return pos_ >= in_.size(); }
  char peek() const { return at_end() ? '\0' : in_[pos_]; }
  // Only for bytes known to be ASCII and not a line break.
  void advance(size_t n = 1) {
    pos_ += n;
    column_ += static_cast<uint32_t>(n);
  }

  void skip_space() {
    while (!at_end() && is_space(in_[pos_])) {
      if (in_[pos_] == '\n') {
        ++pos_;
        ++line_;
        column_ = 1;
      } else {
        advance();
      }
    }
  }

  // The whole input must be UTF-8 before anything else is judged, so a
  // binary or Latin-1 file gets that diagnosis rather than a syntax error.
  void check_utf8() {
    uint32_t line = line_, column = column_;
    for (size_t i = pos_; i < in_.size();) {
      size_t n = static_cast<unsigned char>(in_[i]) < 0x80 ? 1 : utf8_length(in_, i);
      if (n == 0) {
        syntax_error({line, column}, "UTF-8 text",
                     "the byte " + hex_byte(static_cast<unsigned char>(in_[i])));
      }
      if (in_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
      i += n;
    }
  }

  // What the text at `pos` looks like, for "got ...": a structural
  // character, a control character, or the run of text up to the next
  // space or structural character.
  std::string got_at(size_t pos) const {
    if (pos >= in_.size()) return "end of file";
    unsigned char c = static_cast<unsigned char>(in_[pos]);
    if (c < 0x20 || c == 0x7f) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "the control character U+%04X", c);
      return buf;
    }
    if (is_structural(static_cast<char>(c)) || is_space(static_cast<char>(c))) {
      return quote(in_.substr(pos, 1));
    }
    size_t end = pos;
    while (end < in_.size() && end - pos < 64) {
      char e = in_[end];
      if (is_space(e) || is_structural(e) || static_cast<unsigned char>(e) < 0x20) break;
      end += std::max<size_t>(1, utf8_length(in_, end));  // never 0: the input is UTF-8
    }
    std::string got = quote(in_.substr(pos, end - pos));
    if (c == '/' && pos + 1 < in_.size() && (in_[pos + 1] == '/' || in_[pos + 1] == '*')) {
      got += " (JSON has no comments)";
    }
    return got;
  }
  std::string got_here() const { return got_at(pos_); }

  uint32_t add_node(Type type, SourceLoc loc) {
    detail::Node n{};
    n.type = type;
    n.line = loc.line;
    n.column = loc.column;
    doc_.nodes_.push_back(n);
    return static_cast<uint32_t>(doc_.nodes_.size() - 1);
  }
  void close_node(uint32_t index) {
    doc_.nodes_[index].end = static_cast<uint32_t>(doc_.nodes_.size());
  }
  std::string_view node_text(uint32_t index) const {
    const detail::Node& n = doc_.nodes_[index];
    return std::string_view(doc_.text_).substr(n.text_offset, n.text_length);
  }

  // The path to the value being parsed: `machine`, `threads[1].ops`, ...
  std::string path() const {
    std::string p;
    for (const Step& s : path_) {
      p = s.is_key ? path_key(p, node_text(s.key_node)) : path_index(p, s.index);
    }
    return p;
  }

  void parse_value(int depth) {
    switch (peek()) {
      case '{':
        return parse_object(depth);
      case '[':
        return parse_array(depth);
      case '"':
        return close_node(parse_string());
      case '-':
        return parse_number();
      default:
        if (is_digit(peek())) return parse_number();
        if (is_word_char(peek())) return parse_word();
        syntax_error(here(), "a JSON value", got_here());
    }
  }

  void enter(int depth) {
    if (depth >= kMaxDepth) {
      syntax_error(here(), "at most 64 nested arrays and objects", "more");
    }
  }

  void parse_object(int depth) {
    enter(depth);
    uint32_t self = add_node(Type::kObject, here());
    advance();  // '{'
    skip_space();
    KeySet seen;
    bool after_comma = false;
    if (peek() == '}') {
      advance();
    } else {
      for (;;) {
        if (peek() != '"') {
          if (after_comma && peek() == '}') {
            syntax_error(here(), "a string key", got_here() + " (JSON has no trailing commas)");
          }
          syntax_error(here(), after_comma ? "a string key" : "a string key or '}'", got_here());
        }
        uint32_t key = parse_string();
        close_node(key);
        check_duplicate(key, seen);
        skip_space();
        if (peek() != ':') syntax_error(here(), "':' after the key", got_here());
        advance();
        skip_space();
        path_.push_back({true, key, 0});
        parse_value(depth + 1);
        path_.pop_back();
        skip_space();
        if (peek() == ',') {
          advance();
          skip_space();
          after_comma = true;
          continue;
        }
        if (peek() == '}') {
          advance();
          break;
        }
        syntax_error(here(), "',' or '}'", got_here());
      }
    }
    close_node(self);
  }

  // Objects are small; past a few keys, a hash set keeps huge ones linear.
  struct KeySet {
    std::vector<uint32_t> nodes;
    std::unordered_map<std::string, uint32_t> index;
  };

  void check_duplicate(uint32_t key, KeySet& seen) {
    constexpr size_t kLinear = 16;
    std::string_view name = node_text(key);
    std::optional<uint32_t> first;
    if (seen.nodes.size() < kLinear) {
      for (uint32_t k : seen.nodes) {
        if (node_text(k) == name) first = k;
      }
      seen.nodes.push_back(key);
      if (seen.nodes.size() == kLinear && !first) {
        for (uint32_t k : seen.nodes) seen.index.emplace(node_text(k), k);
      }
    } else {
      auto [it, inserted] = seen.index.emplace(name, key);
      if (!inserted) first = it->second;
    }
    if (first) {
      const detail::Node& f = doc_.nodes_[*first];
      const detail::Node& k = doc_.nodes_[key];
      throw ParseError{{k.line, k.column},
                       path_key(path(), name) + ": duplicate key " + quote(name) + " (first at " +
                           std::to_string(f.line) + ":" + std::to_string(f.column) + ")"};
    }
  }

  void parse_array(int depth) {
    enter(depth);
    uint32_t self = add_node(Type::kArray, here());
    advance();  // '['
    skip_space();
    if (peek() == ']') {
      advance();
    } else {
      path_.push_back({false, 0, 0});
      for (;;) {
        parse_value(depth + 1);
        skip_space();
        if (peek() == ']') {
          advance();
          break;
        }
        if (peek() != ',') syntax_error(here(), "',' or ']'", got_here());
        advance();
        skip_space();
        if (peek() == ']') {
          syntax_error(here(), "a JSON value", got_here() + " (JSON has no trailing commas)");
        }
        ++path_.back().index;
      }
      path_.pop_back();
    }
    close_node(self);
  }

  // Returns the node, not yet closed (keys are closed by the caller too).
  uint32_t parse_string() {
    SourceLoc start = here();
    uint32_t self = add_node(Type::kString, start);
    size_t offset = doc_.text_.size();
    std::string& out = doc_.text_;
    advance();  // '"'
    for (;;) {
      if (at_end()) syntax_error(start, "'\"' to close this string", "end of file");
      unsigned char c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        advance();
        break;
      }
      if (c == '\\') {
        parse_escape(out);
      } else if (c < 0x20) {
        syntax_error(here(), "a character or an escape sequence",
                     got_here() + " (control characters must be escaped)");
      } else {
        // A run of plain characters, copied at once. The input is known to
        // be UTF-8, so each byte that is not a continuation starts a column.
        size_t end = pos_;
        uint32_t chars = 0;
        for (; end < in_.size(); ++end) {
          unsigned char b = static_cast<unsigned char>(in_[end]);
          if (b == '"' || b == '\\' || b < 0x20) break;
          chars += (b & 0xc0) != 0x80;
        }
        out.append(in_.substr(pos_, end - pos_));
        pos_ = end;
        column_ += chars;
      }
    }
    doc_.nodes_[self].text_offset = static_cast<uint32_t>(offset);
    doc_.nodes_[self].text_length = static_cast<uint32_t>(out.size() - offset);
    return self;
  }

  // Four hex digits at in_[at], or -1.
  int32_t hex4(size_t at) const {
    if (at + 4 > in_.size()) return -1;
    int32_t v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      int d = hex_digit(in_[i]);
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  void parse_escape(std::string& out) {
    SourceLoc loc = here();
    size_t at = pos_;
    char e = at + 1 < in_.size() ? in_[at + 1] : '\0';
    const char* simple = nullptr;
    switch (e) {
      case '"':
        simple = "\"";
        break;
      case '\\':
        simple = "\\";
        break;
      case '/':
        simple = "/";
        break;
      case 'b':
        simple = "\b";
        break;
      case 'f':
        simple = "\f";
        break;
      case 'n':
        simple = "\n";
        break;
      case 'r':
        simple = "\r";
        break;
      case 't':
        simple = "\t";
        break;
      case 'u':
        break;
      default: {
        std::string got = "\\";
        if (at + 1 >= in_.size()) {
          got = "end of file";
        } else if (static_cast<unsigned char>(e) >= 0x20 && static_cast<unsigned char>(e) < 0x7f) {
          got = quote(got + e);
        } else {
          got = "'\\' followed by " + got_at(at + 1);
        }
        syntax_error(loc, R"(an escape sequence (\" \\ \/ \b \f \n \r \t or \uXXXX))", got);
      }
    }
    if (simple) {
      out += simple;
      advance(2);
      return;
    }
    int32_t cp = hex4(at + 2);
    if (cp < 0) {
      syntax_error(loc, "four hex digits after \\u", escape_text(at, 6));
    }
    advance(6);
    if (cp >= 0xdc00 && cp <= 0xdfff) {
      syntax_error(loc, "a Unicode character", "the lone low surrogate " + escape_text(at, 6));
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      int32_t low = -1;
      if (peek() == '\\' && pos_ + 1 < in_.size() && in_[pos_ + 1] == 'u') low = hex4(pos_ + 2);
      if (low < 0xdc00 || low > 0xdfff) {
        syntax_error(loc, "a low surrogate (\\uDC00 to \\uDFFF) after the high surrogate",
                     "the lone high surrogate " + escape_text(at, 6));
      }
      advance(6);
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    append_utf8(out, static_cast<uint32_t>(cp));
  }

  // Up to n bytes of an escape sequence, quoted, stopping before anything
  // that is not printable ASCII.
  std::string escape_text(size_t at, size_t n) const {
    size_t end = at;
    while (end < in_.size() && end - at < n) {
      unsigned char c = static_cast<unsigned char>(in_[end]);
      if (c < 0x20 || c >= 0x7f || (end > at + 1 && c == '"')) break;
      ++end;
    }
    return quote(in_.substr(at, end - at));
  }

  void parse_number() {
    SourceLoc loc = here();
    size_t start = pos_;
    // Numbers are ASCII, so the column of in_[p] is an offset from the start.
    auto fail_at = [&](size_t p, std::string_view expected) {
      syntax_error({loc.line, loc.column + static_cast<uint32_t>(p - start)}, expected, got_at(p));
    };
    size_t p = pos_;
    bool negative = in_[p] == '-';
    if (negative) ++p;
    if (p >= in_.size() || !is_digit(in_[p])) fail_at(p, "a digit after '-'");
    if (in_[p] == '0' && p + 1 < in_.size() && is_digit(in_[p + 1])) {
      syntax_error(loc, "a number without leading zeros", got_at(start));
    }
    uint64_t magnitude = 0;
    bool overflow = false;
    for (; p < in_.size() && is_digit(in_[p]); ++p) {
      unsigned d = static_cast<unsigned>(in_[p] - '0');
      if (magnitude > (UINT64_MAX - d) / 10) overflow = true;
      magnitude = magnitude * 10 + d;
    }
    bool real = false;
    if (p < in_.size() && in_[p] == '.') {
      real = true;
      ++p;
      if (p >= in_.size() || !is_digit(in_[p])) fail_at(p, "a digit after '.'");
      while (p < in_.size() && is_digit(in_[p])) ++p;
    }
    if (p < in_.size() && (in_[p] == 'e' || in_[p] == 'E')) {
      real = true;
      ++p;
      if (p < in_.size() && (in_[p] == '+' || in_[p] == '-')) ++p;
      if (p >= in_.size() || !is_digit(in_[p])) fail_at(p, "a digit in the exponent");
      while (p < in_.size() && is_digit(in_[p])) ++p;
    }

    uint32_t self = add_node(Type::kNumber, loc);
    detail::Node& n = doc_.nodes_[self];
    constexpr uint64_t kInt64Max = static_cast<uint64_t>(INT64_MAX);
    if (real) {
      n.number_class = NumberClass::kReal;
    } else if (overflow || (negative && magnitude > kInt64Max + 1)) {
      n.number_class = NumberClass::kOutOfRange;
    } else if (negative) {
      n.number_class = NumberClass::kInt64;
      n.number = ~magnitude + 1;  // two's complement of the magnitude
    } else {
      n.number_class = magnitude > kInt64Max ? NumberClass::kUint64 : NumberClass::kInt64;
      n.number = magnitude;
    }
    n.text_offset = static_cast<uint32_t>(doc_.text_.size());
    n.text_length = static_cast<uint32_t>(p - start);
    doc_.text_.append(in_.substr(start, p - start));
    advance(p - start);
    close_node(self);
  }

  void parse_word() {
    SourceLoc loc = here();
    size_t end = pos_;
    while (end < in_.size() && is_word_char(in_[end])) ++end;
    std::string_view word = in_.substr(pos_, end - pos_);
    Type type = Type::kNull;
    bool value = false;
    if (word == "true" || word == "false") {
      type = Type::kBool;
      value = word == "true";
    } else if (word != "null") {
      syntax_error(loc, "a JSON value", got_here());
    }
    uint32_t self = add_node(type, loc);
    doc_.nodes_[self].boolean = value;
    advance(word.size());
    close_node(self);
  }

  std::string_view in_;
  Document& doc_;
  size_t pos_ = 0;
  uint32_t line_ = 1, column_ = 1;  // of in_[pos_], in code points
  std::vector<Step> path_;
};

std::variant<Document, ParseError> parse(std::string_view input) {
  Document doc;
  try {
    Parser(input, doc).run();
  } catch (ParseError& e) {
    return std::move(e);
  }
  return doc;
}

}  // namespace vmsim::json
