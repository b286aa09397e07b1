// Single-value pages: a page whose 512 64-bit words are all the same value
// (zero included) is kept as that value alone, with no compressed bytes
// (XNU's single-value pages, zram's same-filled pages). Zero pages are by far
// the most common case in process memory; runs of one pattern (0xff, a
// poison word, a repeated pointer) are the rest.
#pragma once

#include "lib/types.hpp"

namespace vm {

inline constexpr u32 kPageWords = kPageSize / 8;

// The page's first word, little-endian: the same value on every machine.
inline u64 page_word_le(const u8* p) {
  u64 w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];
  return w;
}

// True when every 64-bit word of `page` equals its first; *value is that word.
inline bool page_single_value(const u8* page, u64* value) {
  u64 first;
  __builtin_memcpy(&first, page, 8);
  for (u32 i = 1; i < kPageWords; ++i) {
    u64 w;
    __builtin_memcpy(&w, page + i * 8, 8);
    if (w != first) return false;
  }
  *value = page_word_le(page);
  return true;
}

// Writes `value` (little-endian) into every word of `page`.
inline void page_fill_value(u8* page, u64 value) {
  u8 bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<u8>(value >> (8 * i));
  for (u32 i = 0; i < kPageWords; ++i) __builtin_memcpy(page + i * 8, bytes, 8);
}

}  // namespace vm
