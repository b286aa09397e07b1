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
  // 64 bytes at a time, OR-ed without a branch per word: the digest asks
  // this of every resident page. In SSE registers where the build has them
  // (not the kernel's, which is general registers only).
  for (; i + 64 <= n; i += 64) {
#if defined(__SSE2__)
    typedef u64 Lanes __attribute__((vector_size(16)));
    Lanes w0, w1, w2, w3;
    __builtin_memcpy(&w0, b + i, 16);
    __builtin_memcpy(&w1, b + i + 16, 16);
    __builtin_memcpy(&w2, b + i + 32, 16);
    __builtin_memcpy(&w3, b + i + 48, 16);
    const Lanes any = (w0 | w1) | (w2 | w3);
    if ((any[0] | any[1]) != 0) return false;
#else
    u64 any = 0;
    for (size_t k = 0; k < 64; k += 8) {
      u64 w;
      __builtin_memcpy(&w, b + i + k, 8);
      any |= w;
    }
    if (any != 0) return false;
#endif
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
