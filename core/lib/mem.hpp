// Byte helpers for the freestanding core. The compiler builtins lower to
// inline code or to memcpy/memset, which each machine supplies.
#pragma once

#include "lib/types.hpp"

namespace vm {

inline void mem_copy(void* dst, const void* src, size_t n) {
  __builtin_memcpy(dst, src, n);
}
inline void mem_set(void* dst, int byte, size_t n) {
  __builtin_memset(dst, byte, n);
}
inline int mem_compare(const void* a, const void* b, size_t n) {
  return __builtin_memcmp(a, b, n);
}

inline bool mem_is_zero(const void* p, size_t n) {
  const u8* b = static_cast<const u8*>(p);
  size_t i = 0;
  // 64 bytes at a time, OR-ed without a branch per word (the compiler
  // vectorizes this): the digest asks it of every resident page.
  for (; i + 64 <= n; i += 64) {
    u64 w[8];
    __builtin_memcpy(w, b + i, 64);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) return false;
  }
  for (; i + 8 <= n; i += 8) {
    u64 w;
    __builtin_memcpy(&w, b + i, 8);
    if (w != 0) return false;
  }
  for (; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

inline size_t str_length(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

}  // namespace vm

namespace vm {

// Bytewise comparison of NUL-terminated strings (the digest's name order).
inline int str_compare(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return static_cast<int>(static_cast<u8>(*a)) - static_cast<int>(static_cast<u8>(*b));
}

}  // namespace vm
