// Round-trip fuzzing of the page codec: random and adversarial pages come
// back bit-exact, every compressed length is reached and its capacity
// boundary holds, and corrupt streams (truncated, bit-flipped, garbage,
// trailing bytes) are refused without a read or write out of bounds. In the
// sanitizer build (label `sanitize`) ASan checks the bounds: inputs and pages
// are exact-size heap blocks; in every build a guard zone after the page
// must stay untouched.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <vector>

#include "page_patterns.hpp"
#include "vm/compressor/page_codec.hpp"

namespace {

using vm::DecodeStatus;
using vm::EncodeKind;
using vmtest::Page;

constexpr uint32_t kRoomy = 4096 + 512;  // enough for any page, random ones too
constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0x5a;

vm::PageCodecScratch& scratch() {
  static vm::PageCodecScratch s;
  return s;
}

std::vector<uint8_t> compress(const Page& page, uint32_t capacity, vm::EncodeResult* r) {
  std::vector<uint8_t> out(capacity);
  *r = vm::page_encode(page.data(), out.data(), capacity, scratch());
  out.resize(r->kind == EncodeKind::kCompressed ? r->length : 0);
  return out;
}

// Decodes `in` from an exact-size copy into a page followed by a guard zone.
DecodeStatus decode_guarded(const std::vector<uint8_t>& in, Page* page) {
  std::vector<uint8_t> input(in);  // exact size: ASan sees any over-read
  std::vector<uint8_t> out(4096 + kGuard, kGuardByte);
  const DecodeStatus st = vm::page_decode(input.empty() ? nullptr : input.data(),
                                          static_cast<uint32_t>(input.size()), out.data());
  for (size_t i = 4096; i < out.size(); ++i) {
    EXPECT_EQ(out[i], kGuardByte) << "decoder wrote past the page at +" << i - 4096;
    if (out[i] != kGuardByte) break;
  }
  page->assign(out.begin(), out.begin() + 4096);
  return st;
}

// Encodes and decodes `page`; it must come back bit-exact. Returns the
// compressed length (0 for a single-value page).
uint32_t round_trip(const Page& page, const std::string& what) {
  vm::EncodeResult r;
  const std::vector<uint8_t> packed = compress(page, kRoomy, &r);
  if (r.kind == EncodeKind::kSingleValue) {
    uint64_t first;
    std::memcpy(&first, page.data(), 8);
    EXPECT_EQ(r.value, first) << what;
    return 0;
  }
  EXPECT_EQ(r.kind, EncodeKind::kCompressed) << what;
  Page back;
  const DecodeStatus st = decode_guarded(packed, &back);
  EXPECT_EQ(st, DecodeStatus::kOk) << what << ": " << vm::decode_status_name(st);
  EXPECT_TRUE(back == page) << what << ": not bit-exact";
  return r.length;
}

// Every generator of page_patterns.hpp with random parameters.
Page random_kind_of_page(std::mt19937_64& rng, std::string* what) {
  switch (rng() % 10) {
    case 0:
      *what = "zero";
      return vmtest::zero_page();
    case 1:
      *what = "value";
      return vmtest::value_page(rng());
    case 2:
      *what = "random";
      return vmtest::random_page(rng);
    case 3: {
      const uint32_t max_run = 1 + static_cast<uint32_t>(rng() % 300);
      *what = "runs up to " + std::to_string(max_run);
      return vmtest::runs_page(rng, max_run);
    }
    case 4:
      *what = "pointers";
      return vmtest::pointer_page(rng);
    case 5:
      *what = "text";
      return vmtest::text_page(rng);
    case 6: {
      const size_t stride = 1 + rng() % 200;
      *what = "stride " + std::to_string(stride);
      return vmtest::strided_page(rng, stride);
    }
    case 7: {
      const int words = 1 + static_cast<int>(rng() % 40);
      *what = "sparse " + std::to_string(words);
      return vmtest::sparse_page(rng, rng() % 3 == 0 ? 0 : rng(), words);
    }
    case 8: {
      const size_t prefix = rng() % 4097;
      *what = "prefix " + std::to_string(prefix);
      return vmtest::prefix_page(rng, prefix);
    }
    default: {
      // Halves of two kinds, split anywhere.
      std::string a, b;
      Page x = random_kind_of_page(rng, &a);
      const Page y = random_kind_of_page(rng, &b);
      const size_t cut = rng() % 4097;
      std::memcpy(x.data() + cut, y.data() + cut, 4096 - cut);
      *what = a + " | " + b + " at " + std::to_string(cut);
      return x;
    }
  }
}

TEST(PageCodecFuzz, RandomPagesOfEveryKindRoundTrip) {
  std::mt19937_64 rng(20261205);
  for (int i = 0; i < 3000; ++i) {
    std::string what;
    const Page p = random_kind_of_page(rng, &what);
    round_trip(p, "page " + std::to_string(i) + " (" + what + ")");
    if (HasFailure()) return;
  }
}

// Three families of pages reach every compressed length from a few bytes to
// past a page, but for a handful: random bytes then zeros (the zero run split
// by one byte, or not), and random pages with one early match of 0..200
// bytes (the lengths just under a page, where the incompressible boundary
// lies). At each length the capacity boundary is exact.
TEST(PageCodecFuzz, EveryCompressedLengthAndItsCapacityBoundary) {
  std::mt19937_64 rng(11);
  std::vector<Page> pages;
  for (size_t prefix = 0; prefix <= 4096; ++prefix) {
    pages.push_back(vmtest::prefix_page(rng, prefix));
    if (prefix + 40 < 4096) {
      pages.push_back(pages.back());
      pages.back()[prefix + 21] = 7;
    }
  }
  for (size_t m = 0; m <= 200; ++m) {
    Page p = vmtest::random_page(rng);
    for (size_t i = 0; i < m; ++i) p[8 + i] = p[i];
    pages.push_back(p);
  }
  std::set<uint32_t> lengths;
  for (size_t i = 0; i < pages.size(); ++i) {
    const Page& p = pages[i];
    const uint32_t n = round_trip(p, "page " + std::to_string(i));
    if (HasFailure()) return;
    if (n == 0) continue;
    lengths.insert(n);
    vm::EncodeResult at, below;
    const auto exact = compress(p, n, &at);
    ASSERT_EQ(at.kind, EncodeKind::kCompressed) << i;
    ASSERT_EQ(at.length, n);
    compress(p, n - 1, &below);
    ASSERT_EQ(below.kind, EncodeKind::kIncompressible) << i;
  }
  std::vector<uint32_t> missing;
  for (uint32_t n = *lengths.begin(); n <= 4096; ++n)
    if (lengths.count(n) == 0) missing.push_back(n);
  EXPECT_GT(*lengths.rbegin(), 4096u);
  EXPECT_LE(missing.size(), 8u) << "first missing length " << missing.front();
  EXPECT_TRUE(missing.empty() || missing.back() < 4000) << "missing " << missing.back();
}

// Literal runs and matches at and around every field boundary of the
// format (token saturation at 7 literals and 19 match bytes, the second
// extension byte from 7 + 240 and 19 + 240 on), at offsets 1..9 (overlapping copies) and the
// farthest 4095, next to a repeat match.
TEST(PageCodecFuzz, LiteralAndMatchLengthsAtFieldBoundaries) {
  const std::vector<uint32_t> literal_counts = {0,   1,   5,   6,   7,   8,    9,
                                                246, 247, 248, 249, 500, 1000, 3000};
  const std::vector<uint32_t> match_lengths = {4,   5,   17,  18,  19,   20,   21,
                                               258, 259, 260, 261, 1500, 3000, 4000};
  const std::vector<uint32_t> offsets = {1, 2, 3, 4, 7, 8, 9, 16, 100, 4095};
  std::mt19937_64 rng(5);
  for (uint32_t lit : literal_counts) {
    for (uint32_t len : match_lengths) {
      for (uint32_t off : offsets) {
        Page p = vmtest::random_page(rng);
        // [random prefix][lit random][match of len at off][random][same again]
        const uint32_t start = off + 8 + lit;
        if (start + len + 64 > 4096) continue;
        for (uint32_t i = 0; i < len; ++i) p[start + i] = p[start + i - off];
        round_trip(p, "literals " + std::to_string(lit) + " match " + std::to_string(len) +
                          " offset " + std::to_string(off));
        if (HasFailure()) return;
      }
    }
  }
}

// Every truncation of a valid stream is refused, and so is any byte after it.
TEST(PageCodecFuzz, TruncatedAndExtendedStreamsAreRefused) {
  std::mt19937_64 rng(6);
  int streams = 0;
  while (streams < 24) {
    std::string what;
    const Page p = random_kind_of_page(rng, &what);
    vm::EncodeResult r;
    const std::vector<uint8_t> packed = compress(p, 4096, &r);
    if (r.kind != EncodeKind::kCompressed) continue;
    ++streams;
    Page back;
    for (size_t cut = 0; cut < packed.size(); ++cut) {
      const std::vector<uint8_t> prefix(packed.begin(), packed.begin() + cut);
      const DecodeStatus st = decode_guarded(prefix, &back);
      ASSERT_NE(st, DecodeStatus::kOk) << what << " cut at " << cut << " of " << packed.size();
    }
    std::vector<uint8_t> longer = packed;
    longer.push_back(static_cast<uint8_t>(rng()));
    ASSERT_EQ(decode_guarded(longer, &back), DecodeStatus::kTrailing) << what;
  }
}

// Flipped bits, replaced bytes, inserted and deleted bytes in valid
// streams: the decoder returns, never crashes, never writes past the page.
TEST(PageCodecFuzz, MutatedStreamsNeverCrash) {
  std::mt19937_64 rng(7);
  int refused = 0, total = 0;
  while (total < 20000) {
    std::string what;
    const Page p = random_kind_of_page(rng, &what);
    vm::EncodeResult r;
    const std::vector<uint8_t> packed = compress(p, 4096, &r);
    if (r.kind != EncodeKind::kCompressed) continue;
    for (int k = 0; k < 20; ++k, ++total) {
      std::vector<uint8_t> s = packed;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t at = rng() % s.size();
        switch (rng() % 4) {
          case 0:
            s[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
            break;
          case 1:
            s[at] = static_cast<uint8_t>(rng());
            break;
          case 2:
            s.insert(s.begin() + static_cast<long>(at), static_cast<uint8_t>(rng()));
            break;
          default:
            s.erase(s.begin() + static_cast<long>(at));
        }
      }
      Page back;
      refused += decode_guarded(s, &back) != DecodeStatus::kOk;
      if (HasFailure()) return;
    }
  }
  // Most edits break the stream's arithmetic; a few land in literal bytes.
  EXPECT_GT(refused, total / 4);
}

TEST(PageCodecFuzz, GarbageNeverCrashes) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> s(rng() % 5000);
    const int style = static_cast<int>(rng() % 3);
    for (auto& b : s)
      b = style == 0   ? static_cast<uint8_t>(rng())
          : style == 1 ? static_cast<uint8_t>(0xe0 | (rng() & 0x1f))  // long literal tokens
                       : static_cast<uint8_t>(rng() % 2 ? 0xff : rng());
    Page back;
    decode_guarded(s, &back);
    if (HasFailure()) return;
  }
}

// The compressed bytes are a function of the page alone: a fixed corpus
// hashes to the same value on every machine and every build. A change here
// is a change of the stored format (both machines must agree on it).
TEST(PageCodecFuzz, OutputIsStable) {
  std::mt19937_64 rng(9);
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (int i = 0; i < 400; ++i) {
    std::string what;
    const Page p = random_kind_of_page(rng, &what);
    vm::EncodeResult r;
    const std::vector<uint8_t> packed = compress(p, kRoomy, &r);
    const uint8_t kind = static_cast<uint8_t>(r.kind);
    h = (h ^ kind) * 1099511628211ull;
    for (uint8_t b : packed) h = (h ^ b) * 1099511628211ull;
  }
  EXPECT_EQ(h, 10058659911699997514ull) << h;
}

}  // namespace
