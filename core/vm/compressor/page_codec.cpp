#include "vm/compressor/page_codec.hpp"

#include "lib/mem.hpp"
#include "vm/compressor/single_value.hpp"

namespace vm {
namespace {

constexpr u32 kMinMatch = 4;
constexpr u32 kMaxOffset = 4095;
constexpr u32 kLiteralField = 7;  // token literal count saturates here
constexpr u32 kMatchField = 15;   // token match length (minus kMinMatch) saturates here
constexpr u8 kRepeatBit = 0x10;
// Step through unmatched data faster the longer it has gone unmatched:
// one more byte of step per 2^kSkipShift literals.
constexpr u32 kSkipShift = 5;
constexpr u32 kLazyBelow = 32;

inline u32 load32(const u8* p) {
  return u32{p[0]} | u32{p[1]} << 8 | u32{p[2]} << 16 | u32{p[3]} << 24;
}

inline u64 load64(const u8* p) {
  return u64{load32(p)} | u64{load32(p + 4)} << 32;
}

inline u32 hash4(u32 v) {
  return (v * 2654435761u) >> (32 - kCodecHashBits);
}

// Length of the common run of page[a..] and page[b..] (b < a), up to `end`.
inline u32 common_length(const u8* page, u32 a, u32 b, u32 end) {
  u32 n = 0;
  while (a + n + 8 <= end) {
    const u64 diff = load64(page + a + n) ^ load64(page + b + n);
    if (diff != 0) return n + static_cast<u32>(__builtin_ctzll(diff) >> 3);
    n += 8;
  }
  while (a + n < end && page[a + n] == page[b + n]) ++n;
  return n;
}

// An extension (the part of a count beyond its token field) is one byte
// below kExtensionShort, else two: 240 + (first - 240) * 256 + second. Two
// bytes reach 4335, past any count within a page, so a whole-page zero run
// costs five bytes (LZ4's 255-sums would take 16 more).
constexpr u32 kExtensionShort = 240;
static_assert(kExtensionShort + 15 * 256 + 255 + kLiteralField >= kPageSize,
              "two extension bytes must reach any count within a page");

// Bytes an extension takes for `value` in a field that saturates at `field`.
inline u32 extension_bytes(u32 value, u32 field) {
  if (value < field) return 0;
  return value - field < kExtensionShort ? 1 : 2;
}

// The compressed stream being written, bounded by its capacity.
struct Output {
  u8* out;
  u32 capacity;
  u32 length = 0;

  void put_extension(u32 value, u32 field) {
    if (value < field) return;
    const u32 rest = value - field;
    if (rest < kExtensionShort) {
      out[length++] = static_cast<u8>(rest);
      return;
    }
    const u32 high = rest - kExtensionShort;
    out[length++] = static_cast<u8>(kExtensionShort + (high >> 8));
    out[length++] = static_cast<u8>(high);
  }

  // One sequence: `count` literals from `lit`, then a match of `match_length`
  // bytes (0: none, the last sequence) at `offset` or the repeat offset.
  // False when it does not fit.
  bool put_sequence(const u8* lit, u32 count, u32 match_length, u32 offset, bool repeat) {
    u32 need = 1 + extension_bytes(count, kLiteralField) + count;
    if (match_length != 0)
      need += extension_bytes(match_length - kMinMatch, kMatchField) + (repeat ? 0 : 2);
    if (need > capacity - length) return false;
    u32 token = (count < kLiteralField ? count : kLiteralField) << 5;
    if (match_length != 0) {
      const u32 m = match_length - kMinMatch;
      token |= (m < kMatchField ? m : kMatchField) | (repeat ? kRepeatBit : 0);
    }
    out[length++] = static_cast<u8>(token);
    put_extension(count, kLiteralField);
    mem_copy(out + length, lit, count);
    length += count;
    if (match_length == 0) return true;
    put_extension(match_length - kMinMatch, kMatchField);
    if (!repeat) {
      out[length++] = static_cast<u8>(offset);
      out[length++] = static_cast<u8>(offset >> 8);
    }
    return true;
  }
};

}  // namespace

EncodeResult page_encode(const u8* page, u8* out, u32 capacity, PageCodecScratch& scratch) {
  EncodeResult r;
  if (page_single_value(page, &r.value)) {
    r.kind = EncodeKind::kSingleValue;
    return r;
  }
  mem_set(scratch.table, 0, sizeof scratch.table);
  u16* const table = scratch.table;
  Output o{out, capacity};
  constexpr u32 kEnd = kPageSize;
  constexpr u32 kLastStart = kEnd - kMinMatch;  // last position a 4-byte probe can read
  u32 ip = 0;
  u32 anchor = 0;  // first byte not yet emitted
  u32 repeat = kInitialRepeatOffset;
  while (ip <= kLastStart) {
    const u32 v = load32(page + ip);
    u32 offset = 0;
    if (ip >= repeat && load32(page + ip - repeat) == v) offset = repeat;
    u16& slot = table[hash4(v)];
    if (offset == 0 && slot != 0) {
      const u32 candidate = slot - 1u;
      if (ip - candidate <= kMaxOffset && load32(page + candidate) == v) offset = ip - candidate;
    }
    slot = static_cast<u16>(ip + 1);
    if (offset == 0) {
      ip += 1 + ((ip - anchor) >> kSkipShift);
      continue;
    }
    u32 from = ip - offset;
    u32 length = kMinMatch + common_length(page, ip + kMinMatch, from + kMinMatch, kEnd);
    // One byte later, a longer match? (lazy matching, one step; a long match
    // is kept as it is)
    if (length < kLazyBelow && ip + 1 <= kLastStart) {
      const u32 next = ip + 1;
      const u32 v1 = load32(page + next);
      u32 offset1 = 0;
      if (next >= repeat && load32(page + next - repeat) == v1) offset1 = repeat;
      u16& slot1 = table[hash4(v1)];
      if (offset1 == 0 && slot1 != 0) {
        const u32 candidate = slot1 - 1u;
        if (next - candidate <= kMaxOffset && load32(page + candidate) == v1)
          offset1 = next - candidate;
      }
      slot1 = static_cast<u16>(next + 1);
      if (offset1 != 0) {
        const u32 length1 =
            kMinMatch + common_length(page, next + kMinMatch, next - offset1 + kMinMatch, kEnd);
        // Page bytes covered less stream bytes spent, the later match paying
        // for one more literal; on a tie, the cheaper stream.
        const int cost = offset == repeat ? 1 : 3, cost1 = (offset1 == repeat ? 1 : 3) + 1;
        const int saved = static_cast<int>(length) - cost;
        const int saved1 = static_cast<int>(length1) - cost1;
        if (saved1 > saved || (saved1 == saved && cost1 < cost)) {
          ip = next;
          offset = offset1;
          from = next - offset1;
          length = length1;
        }
      }
    }
    while (ip > anchor && from > 0 && page[ip - 1] == page[from - 1]) --ip, --from, ++length;
    if (!o.put_sequence(page + anchor, ip - anchor, length, offset, offset == repeat))
      return r;  // kIncompressible
    repeat = offset;
    ip += length;
    anchor = ip;
    // Seed the table from the end of the match, where the next one often starts.
    if (ip <= kLastStart + 2) table[hash4(load32(page + ip - 2))] = static_cast<u16>(ip - 2 + 1);
  }
  if (anchor < kEnd && !o.put_sequence(page + anchor, kEnd - anchor, 0, 0, false)) return r;
  r.kind = EncodeKind::kCompressed;
  r.length = o.length;
  return r;
}

namespace {

// Reads an extension onto *value; false when the input ends first.
inline bool read_extension(const u8* in, u32 length, u32* ip, u32* value) {
  if (*ip >= length) return false;
  const u32 first = in[(*ip)++];
  if (first < kExtensionShort) {
    *value += first;
    return true;
  }
  if (*ip >= length) return false;
  *value += kExtensionShort + ((first - kExtensionShort) << 8) + in[(*ip)++];
  return true;
}

// Copies `n` bytes from `offset` back in the page to page[op..]; the regions
// may overlap (offset < n), which repeats the last `offset` bytes.
inline void copy_match(u8* page, u32 op, u32 offset, u32 n) {
  u8* dst = page + op;
  u8* const end = dst + n;
  const u8* src = dst - offset;
  if (offset < 8) {
    // Copy one period short of 8 bytes byte by byte; from then on the data
    // repeats every offset*k >= 8 bytes, so word copies cannot overlap.
    const u32 k = (8 + offset - 1) / offset;
    u32 head = (k - 1) * offset;
    if (head > n) head = n;
    for (u32 i = 0; i < head; ++i) dst[i] = src[i];
    dst += head;
    src = dst - k * offset;
  }
  if (op + n + 8 <= kPageSize) {
    // Room after the match: whole words, the last one spilling past `end`
    // into bytes the rest of the stream writes anyway.
    for (; dst < end; dst += 8, src += 8) mem_copy(dst, src, 8);
    return;
  }
  for (; dst + 8 <= end; dst += 8, src += 8) mem_copy(dst, src, 8);
  while (dst < end) *dst++ = *src++;
}

// Copies `count` literals; short runs as one 16-byte copy when both sides
// have room for the spill.
inline void copy_literals(u8* page, u32 op, const u8* in, u32 ip, u32 length, u32 count) {
  if (count <= 16 && ip + 16 <= length && op + 16 <= kPageSize) {
    mem_copy(page + op, in + ip, 16);
    return;
  }
  mem_copy(page + op, in + ip, count);
}

}  // namespace

const char* decode_status_name(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kTruncated:
      return "truncated";
    case DecodeStatus::kOverrun:
      return "runs past the end of the page";
    case DecodeStatus::kBadOffset:
      return "bad match offset";
    case DecodeStatus::kBadToken:
      return "match announced after the page is complete";
    case DecodeStatus::kTrailing:
      return "bytes after the end of the page";
  }
  return "?";
}

DecodeStatus page_decode(const u8* in, u32 length, u8* page) {
  u32 ip = 0;
  u32 op = 0;
  u32 repeat = kInitialRepeatOffset;
  for (;;) {
    if (ip >= length) return DecodeStatus::kTruncated;
    const u8 token = in[ip++];
    u32 count = token >> 5;
    if (count == kLiteralField && !read_extension(in, length, &ip, &count))
      return DecodeStatus::kTruncated;
    if (count > kPageSize - op) return DecodeStatus::kOverrun;
    if (count > length - ip) return DecodeStatus::kTruncated;
    copy_literals(page, op, in, ip, length, count);
    op += count;
    ip += count;
    if (op == kPageSize) {
      if ((token & 0x1f) != 0) return DecodeStatus::kBadToken;
      return ip == length ? DecodeStatus::kOk : DecodeStatus::kTrailing;
    }
    u32 match_length = (token & 0x0f) + kMinMatch;
    if ((token & 0x0f) == kMatchField && !read_extension(in, length, &ip, &match_length))
      return DecodeStatus::kTruncated;
    if ((token & kRepeatBit) == 0) {
      if (length - ip < 2) return DecodeStatus::kTruncated;
      repeat = u32{in[ip]} | u32{in[ip + 1]} << 8;
      ip += 2;
      if (repeat == 0 || repeat > kMaxOffset) return DecodeStatus::kBadOffset;
    }
    if (repeat > op) return DecodeStatus::kBadOffset;
    if (match_length > kPageSize - op) return DecodeStatus::kOverrun;
    copy_match(page, op, repeat, match_length);
    op += match_length;
    if (op == kPageSize) return ip == length ? DecodeStatus::kOk : DecodeStatus::kTrailing;
  }
}

}  // namespace vm
