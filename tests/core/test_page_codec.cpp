// The page codec: single-value pages, the stream format, the capacity
// contract, determinism, and the decoder's errors on streams it did not
// produce. Random and adversarial round trips are in test_page_codec_fuzz.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "page_patterns.hpp"
#include "vm/compressor/page_codec.hpp"
#include "vm/compressor/single_value.hpp"

namespace {

using vm::DecodeStatus;
using vm::EncodeKind;
using vmtest::Page;

struct Encoded {
  vm::EncodeResult result;
  std::vector<uint8_t> bytes;
};

Encoded encode(const Page& page, uint32_t capacity = 4096) {
  static vm::PageCodecScratch scratch;
  Encoded e;
  e.bytes.resize(capacity);
  e.result = vm::page_encode(page.data(), e.bytes.data(), capacity, scratch);
  e.bytes.resize(e.result.kind == EncodeKind::kCompressed ? e.result.length : 0);
  return e;
}

DecodeStatus decode(const std::vector<uint8_t>& in, Page* out) {
  out->assign(4096, 0xee);
  return vm::page_decode(in.data(), static_cast<uint32_t>(in.size()), out->data());
}

TEST(PageCodec, ZeroPageIsSingleValue) {
  const Encoded e = encode(vmtest::zero_page());
  EXPECT_EQ(e.result.kind, EncodeKind::kSingleValue);
  EXPECT_EQ(e.result.value, 0u);
}

TEST(PageCodec, RepeatedWordIsSingleValueLittleEndian) {
  const Encoded e = encode(vmtest::value_page(0x0123456789abcdefull));
  ASSERT_EQ(e.result.kind, EncodeKind::kSingleValue);
  EXPECT_EQ(e.result.value, 0x0123456789abcdefull);
  Page back(4096);
  vm::page_fill_value(back.data(), e.result.value);
  EXPECT_EQ(back, vmtest::value_page(0x0123456789abcdefull));
}

TEST(PageCodec, OneDifferentByteIsNotSingleValue) {
  for (size_t at : {size_t{0}, size_t{7}, size_t{8}, size_t{2048}, size_t{4095}}) {
    Page p = vmtest::value_page(0x4141414141414141ull);
    p[at] ^= 1;
    const Encoded e = encode(p);
    ASSERT_EQ(e.result.kind, EncodeKind::kCompressed) << at;
    Page back;
    ASSERT_EQ(decode(e.bytes, &back), DecodeStatus::kOk);
    EXPECT_EQ(back, p);
    EXPECT_LT(e.bytes.size(), 40u) << at;  // one literal amid two long matches
  }
}

TEST(PageCodec, RandomPageIsIncompressible) {
  std::mt19937_64 rng(1);
  const Encoded e = encode(vmtest::random_page(rng));
  EXPECT_EQ(e.result.kind, EncodeKind::kIncompressible);
  // With room for it, random bytes are stored as literals, a few bytes over.
  const Encoded roomy = encode(vmtest::random_page(rng), 4200);
  ASSERT_EQ(roomy.result.kind, EncodeKind::kCompressed);
  EXPECT_GT(roomy.bytes.size(), 4096u);
}

// The hand-assembled stream of the format comment: 8 literals, then a match
// of 4088 at offset 8 given by the initial repeat offset (no offset bytes).
TEST(PageCodec, DecodesHandWrittenStream) {
  std::vector<uint8_t> s = {0xe0 | 0x10 | 0x0f, 1};  // LLL=7 (+1), R, MMMM=15
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<uint8_t>('a' + i));
  // 4088 = 19 + 240 + 14 * 256 + 245: a two-byte extension.
  s.push_back(240 + 14);
  s.push_back(245);
  Page back;
  ASSERT_EQ(decode(s, &back), DecodeStatus::kOk);
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(back[i], 'a' + i % 8) << i;
}

TEST(PageCodec, StridedRecordsUseRepeatMatches) {
  std::mt19937_64 rng(2);
  const Page p = vmtest::strided_page(rng, 48);
  const Encoded e = encode(p);
  ASSERT_EQ(e.result.kind, EncodeKind::kCompressed);
  // 85 records, each: a token, 4 literal bytes of id, a repeat match of 44.
  // An offset per record would add 2 bytes each.
  EXPECT_LT(e.bytes.size(), 85u * 8);
  Page back;
  ASSERT_EQ(decode(e.bytes, &back), DecodeStatus::kOk);
  EXPECT_EQ(back, p);
}

TEST(PageCodec, CapacityDecidesExactlyAtTheCompressedLength) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50; ++i) {
    const Page p = vmtest::pointer_page(rng);
    const Encoded full = encode(p);
    ASSERT_EQ(full.result.kind, EncodeKind::kCompressed);
    const uint32_t n = full.result.length;
    const Encoded exact = encode(p, n);
    ASSERT_EQ(exact.result.kind, EncodeKind::kCompressed);
    EXPECT_EQ(exact.bytes, full.bytes);
    EXPECT_EQ(encode(p, n - 1).result.kind, EncodeKind::kIncompressible);
  }
}

TEST(PageCodec, OutputDoesNotDependOnScratchContents) {
  std::mt19937_64 rng(4);
  const Page p = vmtest::text_page(rng);
  vm::PageCodecScratch a, b;
  std::memset(&a, 0, sizeof a);
  std::memset(&b, 0xa5, sizeof b);
  std::vector<uint8_t> out_a(4096), out_b(4096);
  const auto ra = vm::page_encode(p.data(), out_a.data(), 4096, a);
  const auto rb = vm::page_encode(p.data(), out_b.data(), 4096, b);
  ASSERT_EQ(ra.kind, EncodeKind::kCompressed);
  ASSERT_EQ(ra.length, rb.length);
  EXPECT_EQ(0, std::memcmp(out_a.data(), out_b.data(), ra.length));
}

// Each decoder error, on a stream made for it.
TEST(PageCodec, DecoderNamesWhatIsWrong) {
  Page back;
  EXPECT_EQ(decode({}, &back), DecodeStatus::kTruncated);
  // Literals announced but missing.
  EXPECT_EQ(decode({0x60}, &back), DecodeStatus::kTruncated);
  // A match before any byte exists.
  EXPECT_EQ(decode({0x00, 0x01, 0x00}, &back), DecodeStatus::kBadOffset);
  // Offset 0 and offset 4096 are never valid.
  EXPECT_EQ(decode({0x20, 'x', 0x00, 0x00}, &back), DecodeStatus::kBadOffset);
  EXPECT_EQ(decode({0x20, 'x', 0x00, 0x10}, &back), DecodeStatus::kBadOffset);
  // A repeat match at the initial offset 8 with only one byte written.
  EXPECT_EQ(decode({0x30, 'x'}, &back), DecodeStatus::kBadOffset);
  // A match longer than the page.
  // 1 literal, a match of 19 + 4335 (the largest extension), offset 1.
  std::vector<uint8_t> s = {0x2f, 'x', 255, 255, 1, 0};
  EXPECT_EQ(decode(s, &back), DecodeStatus::kOverrun);
  // 4096 literals (7 + 240 + 15 * 256 + 9), then a stray byte; then the same
  // stream whose completing token announces a match.
  std::vector<uint8_t> lit = {0xe0, 255, 9};
  lit.resize(lit.size() + 4096, 'z');
  EXPECT_EQ(decode(lit, &back), DecodeStatus::kOk);
  std::vector<uint8_t> trailing = lit;
  trailing.push_back(0);
  EXPECT_EQ(decode(trailing, &back), DecodeStatus::kTrailing);
  std::vector<uint8_t> announced = lit;
  announced[0] |= 0x01;
  EXPECT_EQ(decode(announced, &back), DecodeStatus::kBadToken);
  // The largest literal count, past the page.
  std::vector<uint8_t> many = {0xe0, 255, 255};
  many.resize(10000, 'q');
  EXPECT_EQ(decode(many, &back), DecodeStatus::kOverrun);
  // An extension cut after its first byte.
  EXPECT_EQ(decode({0xe0, 250}, &back), DecodeStatus::kTruncated);
}

TEST(PageCodec, StatusNames) {
  EXPECT_STREQ(vm::decode_status_name(DecodeStatus::kOk), "ok");
  EXPECT_STREQ(vm::decode_status_name(DecodeStatus::kTruncated), "truncated");
}

}  // namespace
