// The content a trace's file starts with (spec §2): every byte `fill`, or
// bytes generated from `seed` by the spec's mix function. One definition
// for every reader: both machines' disks, the model, `vmsim linux`.
#pragma once

#include <stdint.h>

namespace image {

// The mix function of spec §2 (SplitMix64's finalizer).
inline uint64_t content_mix(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Byte `offset` of a file of that content, before anything is written.
inline uint8_t file_content_byte(bool seeded, uint64_t seed, uint8_t fill, uint64_t offset) {
  if (!seeded) return fill;
  return static_cast<uint8_t>(content_mix(seed + offset / 8) >> (8 * (offset % 8)));
}

// Bytes [offset, offset + len) of that content into `out`, one mix per
// eight bytes (the same bytes as file_content_byte, a page at a time).
inline void file_content_fill(bool seeded, uint64_t seed, uint8_t fill, uint64_t offset,
                              uint8_t* out, uint64_t len) {
  if (!seeded) {
    for (uint64_t i = 0; i < len; ++i) out[i] = fill;
    return;
  }
  uint64_t i = 0;
  while (i < len) {
    const uint64_t pos = offset + i;
    uint64_t word = content_mix(seed + pos / 8) >> (8 * (pos % 8));
    for (uint64_t b = pos % 8; b < 8 && i < len; ++b, ++i, word >>= 8)
      out[i] = static_cast<uint8_t>(word);
  }
}

// As file_content_fill, for a file whose content ends at `end`: the bytes
// at or past it read zero (a truncated or grown file).
inline void file_content_fill_until(bool seeded, uint64_t seed, uint8_t fill, uint64_t end,
                                    uint64_t offset, uint8_t* out, uint64_t len) {
  const uint64_t before_end = end > offset ? end - offset : 0;
  const uint64_t n = before_end < len ? before_end : len;
  file_content_fill(seeded, seed, fill, offset, out, n);
  for (uint64_t i = n; i < len; ++i) out[i] = 0;
}

}  // namespace image
