// A strict RFC 8259 JSON reader that remembers where every value starts.
//
// Trace errors must point at the line and column of the offending value,
// which nlohmann::json cannot report, so traces are read with this. The
// document is one flat array of 32-byte nodes in pre-order plus one buffer
// of text: no allocation per value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "trace/trace.hpp"  // SourceLoc

namespace vmsim::json {

inline constexpr size_t kMaxInputBytes = size_t{64} << 20;
inline constexpr int kMaxDepth = 64;  // nested arrays and objects
inline constexpr std::string_view kTooLargeMessage = "file too large (more than 64 MiB)";

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

// How a number was written. Integers are kept exactly; anything with a
// fraction or an exponent is kReal, even `1.0`.
enum class NumberClass : uint8_t {
  kInt64,       // fits int64_t (and uint64_t too when non-negative)
  kUint64,      // above INT64_MAX, fits uint64_t
  kOutOfRange,  // an integer outside both
  kReal,
};

namespace detail {

// One value of a Document (see Value for the accessors).
struct Node {
  Type type;
  NumberClass number_class;
  bool boolean;
  uint32_t line, column;
  uint32_t end;              // index one past this node's subtree
  uint32_t text_offset = 0;  // into Document::text_ (strings, numbers)
  uint32_t text_length = 0;
  uint64_t number = 0;  // kInt64 (two's complement) or kUint64
};

}  // namespace detail

class Document;
struct Member;
template <bool kMembers>
class ChildRange;
using ItemRange = ChildRange<false>;
using MemberRange = ChildRange<true>;

// A value inside a Document: a cheap handle, valid while the Document lives
// (and is not moved).
class Value {
 public:
  Type type() const { return node().type; }
  SourceLoc loc() const { return {node().line, node().column}; }

  bool boolean() const { return node().boolean; }
  NumberClass number_class() const { return node().number_class; }
  bool is_integer() const;
  std::optional<int64_t> as_i64() const;   // integers in int64_t range
  std::optional<uint64_t> as_u64() const;  // integers in [0, 2^64)
  // kString: the decoded text (UTF-8). kNumber: the number as written.
  std::string_view text() const;

  ItemRange items() const;      // kArray, in file order
  MemberRange members() const;  // kObject, in file order
  std::optional<Value> find(std::string_view key) const;

 private:
  friend class Document;
  template <bool>
  friend class ChildRange;
  Value(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
  const detail::Node& node() const;

  const Document* doc_;
  uint32_t index_;
};

struct Member {
  std::string_view key;
  SourceLoc key_loc;
  Value value;
};

// Children of an array (kMembers false: each child is a Value) or of an
// object (kMembers true: children alternate key node, value node, and each is
// a Member). Each node records where its subtree ends, so stepping to the
// next sibling is one load.
template <bool kMembers>
class ChildRange {
 public:
  using Child = std::conditional_t<kMembers, Member, Value>;

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Child;
    using difference_type = std::ptrdiff_t;
    Child operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return index_ == o.index_; }

   private:
    friend class ChildRange;
    iterator(const Document* doc, uint32_t index) : doc_(doc), index_(index) {}
    const Document* doc_;
    uint32_t index_;  // the child's node (for a member: its key node)
  };
  iterator begin() const { return {doc_, first_}; }
  iterator end() const { return {doc_, end_}; }

 private:
  friend class Value;
  ChildRange(const Document* doc, uint32_t first, uint32_t end)
      : doc_(doc), first_(first), end_(end) {}
  const Document* doc_;
  uint32_t first_, end_;
};

class Document {
 public:
  Document() = default;
  Document(Document&&) = default;
  Document& operator=(Document&&) = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  Value root() const { return Value(this, 0); }

 private:
  friend class Value;
  template <bool>
  friend class ChildRange;
  friend class Parser;
  std::vector<detail::Node> nodes_;
  std::string text_;  // decoded strings and number spellings, back to back
};

// A rejected input. `message` is one line, without the file name: e.g.
// `syntax error: expected ',' or ']', got "}"`. `loc.line` is 0 when the
// problem has no place (empty file, file too large).
struct ParseError {
  SourceLoc loc;
  std::string message;
};

// Parses a whole input. Never throws (except std::bad_alloc).
std::variant<Document, ParseError> parse(std::string_view input);

}  // namespace vmsim::json
