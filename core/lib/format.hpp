// Freestanding text formatting into fixed buffers, for panic and audit
// messages and the digest stream. No allocation, no libc, never overflows:
// text past the capacity is dropped and the string ends in "...".
//
//   FixedString<96> msg;
//   msg << "page_allocator: double free of frame " << Hex{pa};
//   platform.panic(msg.c_str());
#pragma once

#include <type_traits>

#include "lib/types.hpp"

namespace vm {

// Writes `v` as lowercase hex, at least `min_digits` digits (zero-padded, at
// most 16), no prefix, no NUL. Returns the number of characters written;
// `out` needs room for max(min_digits, 16).
inline size_t format_hex(char* out, u64 v, unsigned min_digits = 1) {
  char tmp[16];
  size_t n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v != 0);
  while (n < min_digits && n < sizeof tmp) tmp[n++] = '0';
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

// Writes `v` in decimal, no NUL; `out` needs room for 20 characters.
inline size_t format_dec(char* out, u64 v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

// Stream manipulator: "0x" + lowercase hex, zero-padded to `digits`.
struct Hex {
  u64 value;
  unsigned digits = 1;
};

template <size_t N>
class FixedString {
  static_assert(N >= 4, "room for at least the truncation marker");

 public:
  constexpr FixedString() = default;
  explicit FixedString(const char* s) { append(s); }

  const char* c_str() const { return buf_; }
  size_t size() const { return len_; }
  bool truncated() const { return truncated_; }
  void clear() {
    len_ = 0;
    truncated_ = false;
    buf_[0] = '\0';
  }

  FixedString& append(const char* s) {
    if (s == nullptr) s = "(null)";
    while (*s != '\0') append(*s++);
    return *this;
  }
  FixedString& append(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) append(s[i]);
    return *this;
  }
  FixedString& append(char c) {
    if (truncated_) return *this;
    if (len_ + 1 < N) {
      buf_[len_++] = c;
      buf_[len_] = '\0';
      return *this;
    }
    // Full: mark the cut so a reader knows the message is incomplete.
    truncated_ = true;
    len_ = N - 1;
    buf_[N - 4] = buf_[N - 3] = buf_[N - 2] = '.';
    buf_[N - 1] = '\0';
    return *this;
  }
  FixedString& dec(u64 v) {
    char tmp[20];
    return append(tmp, format_dec(tmp, v));
  }
  FixedString& sdec(i64 v) {
    if (v < 0) {
      append('-');
      return dec(u64{0} - static_cast<u64>(v));
    }
    return dec(static_cast<u64>(v));
  }
  // Lowercase hex, zero-padded to `min_digits`, without prefix.
  FixedString& hex(u64 v, unsigned min_digits = 1) {
    char tmp[16];
    return append(tmp, format_hex(tmp, v, min_digits));
  }

  FixedString& operator<<(const char* s) { return append(s); }
  FixedString& operator<<(char c) { return append(c); }
  FixedString& operator<<(Hex h) { return append("0x").hex(h.value, h.digits); }
  FixedString& operator<<(const void* p) { return *this << Hex{reinterpret_cast<uintptr_t>(p)}; }
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, char> &&
                                              !std::is_same_v<I, bool>>>
  FixedString& operator<<(I v) {
    if constexpr (std::is_signed_v<I>) {
      return sdec(static_cast<i64>(v));
    } else {
      return dec(static_cast<u64>(v));
    }
  }
  FixedString& operator<<(bool b) { return append(b ? "true" : "false"); }

 private:
  char buf_[N] = {};
  size_t len_ = 0;  // Invariant: buf_[len_] == '\0', len_ < N.
  bool truncated_ = false;
};

}  // namespace vm
