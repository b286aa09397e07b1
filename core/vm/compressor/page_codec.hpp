// The page codec: one 4 KiB page in, its compressed bytes out, and back,
// bit-exactly. It is the core's own LZ77 byte matcher, tuned for process
// memory (docs/compressor.md has the measurements that chose it):
//
//  - offsets stay inside the page (1..4095, two bytes; four bits spare);
//  - a match may reuse the previous match's offset without spelling it
//    (a "repeat" match: its sequence is two bytes shorter than one with an
//    offset): arrays of structures, pointer tables and strided records
//    repeat at one distance again and again;
//  - the encoder probes one hash slot and the repeat offset per position,
//    looks one byte further for a better match when the one it has is short
//    (lazy matching, which prefers a repeat match when it costs less), and
//    skips faster through data that does not match (as LZ4 does), so
//    incompressible pages cost little;
//  - counts past their token field take one or two extension bytes (never
//    more: a whole-page run of one byte costs five bytes).
//
// Determinism: the output depends on the page's bytes alone (the hash table
// is cleared for every page; loads are little-endian), so both machines
// produce the same bytes.
//
// Stream format (all of it; the decoder accepts nothing else):
//   the page is a sequence of sequences; each sequence is
//     token          1 byte: LLL R MMMM
//                      LLL  literal count 0..6; 7 means 7 + extension
//                      R    1: the match reuses the previous offset
//                           (initially kInitialRepeatOffset)
//                      MMMM match length - 4, 0..14; 15 means 19 + extension
//     [extension]    literal count beyond 7: one byte b < 240 adds b; a
//                    byte b >= 240 and the next byte c add
//                    240 + (b - 240) * 256 + c
//     literals       that many bytes, copied to the page
//     -- if the page is now complete: R and MMMM must be 0 and the input ends
//     [extension]    match length beyond 19, as above
//     [offset]       unless R: 2 bytes little-endian, 1..4095
//   the match copies its length from `offset` bytes back (it may overlap
//   itself); the input ends exactly when the page is complete.
#pragma once

#include "lib/types.hpp"

namespace vm {

inline constexpr u32 kCodecHashBits = 12;
inline constexpr u32 kInitialRepeatOffset = 8;  // one machine word

// The encoder's working memory, supplied by the caller so that the codec
// needs no stack beyond a few words and no allocator (one per CPU in a
// kernel; 8 KiB).
struct PageCodecScratch {
  u16 table[1u << kCodecHashBits];  // hash of 4 bytes -> position + 1 (0: empty)
};

enum class EncodeKind : u8 {
  kSingleValue,     // every 64-bit word equals `value`; nothing written to `out`
  kCompressed,      // `length` bytes written to `out`
  kIncompressible,  // would not fit in `capacity` bytes (it goes to swap)
};

struct EncodeResult {
  EncodeKind kind = EncodeKind::kIncompressible;
  u32 length = 0;  // kCompressed: bytes written
  u64 value = 0;   // kSingleValue: the repeated word (little-endian)
};

// Compresses the kPageSize bytes at `page` into `out` (at most `capacity`
// bytes). The bytes written do not depend on `capacity`: a page that
// compresses to N bytes is kCompressed for every capacity >= N and
// kIncompressible below. `out` may be partly written even then.
EncodeResult page_encode(const u8* page, u8* out, u32 capacity, PageCodecScratch& scratch);

enum class DecodeStatus : u8 {
  kOk,
  kTruncated,  // the input ends before the page is complete
  kOverrun,    // a literal run or match would run past the end of the page
  kBadOffset,  // an offset of 0, above 4095, or before the start of the page
  kBadToken,   // the page completes on a token that still announces a match
  kTrailing,   // input bytes are left after the page is complete
};

const char* decode_status_name(DecodeStatus status);

// Rebuilds the page from `length` compressed bytes at `in`. Safe on any
// input: it reads only in[0, length), writes only page[0, kPageSize), and
// reports what is wrong with a stream it did not produce. On an error the
// page's contents are unspecified.
DecodeStatus page_decode(const u8* in, u32 length, u8* page);

}  // namespace vm
