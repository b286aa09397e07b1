// Page generators for the codec tests: the kinds of 4 KiB pages process
// memory is made of, and adversarial ones. Deterministic from a seed.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace vmtest {

using Page = std::vector<uint8_t>;  // always 4096 bytes

inline void put_word(Page& p, size_t word, uint64_t v) {
  std::memcpy(p.data() + word * 8, &v, 8);
}

inline Page zero_page() {
  return Page(4096, 0);
}

inline Page value_page(uint64_t v) {
  Page p(4096);
  for (size_t i = 0; i < 512; ++i) put_word(p, i, v);
  return p;
}

inline Page random_page(std::mt19937_64& rng) {
  Page p(4096);
  for (size_t i = 0; i < 512; ++i) put_word(p, i, rng());
  return p;
}

// Runs of one byte value, of random lengths 1..max_run.
inline Page runs_page(std::mt19937_64& rng, uint32_t max_run) {
  Page p(4096);
  size_t i = 0;
  while (i < p.size()) {
    const size_t n = std::min<size_t>(1 + rng() % max_run, p.size() - i);
    std::memset(p.data() + i, static_cast<int>(rng() & 0xff), n);
    i += n;
  }
  return p;
}

// A heap of pointers into two regions, small integers and zero words.
inline Page pointer_page(std::mt19937_64& rng) {
  Page p(4096);
  const uint64_t heap = 0x00005555'55550000ull + ((rng() & 0xfff) << 16);
  const uint64_t stack = 0x00007ffc'00000000ull + ((rng() & 0xffff) << 12);
  for (size_t i = 0; i < 512; ++i) {
    switch (rng() % 5) {
      case 0:
        put_word(p, i, heap + ((rng() % 0x10000) & ~15ull));
        break;
      case 1:
        put_word(p, i, stack + ((rng() % 0x1000) & ~7ull));
        break;
      case 2:
        put_word(p, i, rng() % 100);
        break;
      default:
        put_word(p, i, 0);
    }
  }
  return p;
}

inline Page text_page(std::mt19937_64& rng) {
  static const char* kWords[] = {"the ",   "page ",  "fault ", "object ", "map ", "shadow ",
                                 "copy ",  "write ", "\n",     "return ", "int ", "struct ",
                                 "vm_",    "(",      ");\n",   "  ",      "if ",  "else ",
                                 "while ", "{\n",    "}\n",    "= ",      "0x",   "NULL"};
  Page p(4096);
  size_t i = 0;
  while (i < p.size()) {
    const char* w = kWords[rng() % (sizeof kWords / sizeof kWords[0])];
    for (; *w && i < p.size(); ++w) p[i++] = static_cast<uint8_t>(*w);
  }
  return p;
}

// `prefix` random non-zero bytes, then zeros: compresses to about `prefix`
// bytes, so sweeping it reaches every compressed length.
inline Page prefix_page(std::mt19937_64& rng, size_t prefix) {
  Page p(4096, 0);
  for (size_t i = 0; i < prefix; ++i) p[i] = static_cast<uint8_t>(1 + rng() % 255);
  return p;
}

// Records of `stride` bytes that differ in one field: repeat-offset matches.
inline Page strided_page(std::mt19937_64& rng, size_t stride) {
  Page p(4096);
  Page record(stride);
  for (auto& b : record) b = static_cast<uint8_t>(rng());
  for (size_t i = 0; i < p.size(); ++i) p[i] = record[i % stride];
  for (size_t i = 0; i + 4 <= p.size(); i += stride) {
    const uint32_t id = static_cast<uint32_t>(i / stride);
    std::memcpy(p.data() + i, &id, 4);
  }
  return p;
}

// Mostly one value, with a few random words (one differing word defeats the
// single-value path at every position).
inline Page sparse_page(std::mt19937_64& rng, uint64_t base, int words) {
  Page p = value_page(base);
  for (int k = 0; k < words; ++k) put_word(p, rng() % 512, rng());
  return p;
}

}  // namespace vmtest
