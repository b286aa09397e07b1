#include "compressor_bench.hpp"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <stdexcept>

#include "vm/compressor/page_codec.hpp"
#include "vm/compressor/single_value.hpp"

namespace bench {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kSlot = 4096 + 512;  // room for any codec's worst case on one page
constexpr uint64_t kSingleValueBytes = 8;

// CPU time of this thread, in seconds: on a shared host, wall time would
// count the time other processes hold the CPU.
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The fastest of several timed passes of `pass` (at least 3, and at least
// 0.2 s in all), in seconds: the minimum is the figure least disturbed by
// other work (cache and interrupt noise).
double best_seconds(const std::function<void()>& pass) {
  pass();  // warm caches and branch predictors
  double best = 1e30, total = 0;
  for (int i = 0; i < 3 || total < 0.2; ++i) {
    const double start = thread_seconds();
    pass();
    const double s = thread_seconds() - start;
    best = std::min(best, s);
    total += s;
  }
  return best;
}

// One codec over all pages: compress(page, out) returns the stored length
// (0: kept raw); decompress(in, length, page) rebuilds it.
struct Codec {
  const char* name;
  std::function<size_t(const uint8_t*, uint8_t*)> compress;
  std::function<bool(const uint8_t*, size_t, uint8_t*)> decompress;
};

CodecFigures measure(const Codec& codec, const std::vector<uint8_t>& data) {
  const size_t pages = data.size() / kPage;
  std::vector<uint8_t> packed(pages * kSlot);
  std::vector<size_t> lengths(pages);
  const double c = best_seconds([&] {
    for (size_t i = 0; i < pages; ++i)
      lengths[i] = codec.compress(data.data() + i * kPage, packed.data() + i * kSlot);
  });
  std::vector<uint8_t> back(data.size());
  const double d = best_seconds([&] {
    for (size_t i = 0; i < pages; ++i) {
      uint8_t* page = back.data() + i * kPage;
      if (lengths[i] == 0) {
        std::memcpy(page, data.data() + i * kPage, kPage);  // stored raw
      } else if (!codec.decompress(packed.data() + i * kSlot, lengths[i], page)) {
        throw std::runtime_error(std::string(codec.name) + " failed to decompress page " +
                                 std::to_string(i));
      }
    }
  });
  if (back != data)
    throw std::runtime_error(std::string(codec.name) + " round trip is not bit-exact");
  CodecFigures f;
  for (size_t n : lengths) f.bytes_out += n == 0 ? kPage : n;
  f.ratio = static_cast<double>(data.size()) / static_cast<double>(f.bytes_out);
  f.compress_gbps = static_cast<double>(data.size()) / c / 1e9;
  f.decompress_gbps = static_cast<double>(data.size()) / d / 1e9;
  return f;
}

}  // namespace

CompressorFigures measure_compressors(const std::vector<uint8_t>& data) {
  CompressorFigures f;
  f.pages = data.size() / kPage;

  // The core's codec. Which kind of page it stored is metadata (the
  // compressor's slot keeps it, as zram keeps LZ4's length in its handle
  // table), so it goes in the last byte of the page's slot, uncounted.
  vm::PageCodecScratch scratch;
  constexpr size_t kKind = kSlot - 1;
  constexpr uint8_t kSingle = 1, kStream = 2;
  Codec core{"vmsim",
             [&](const uint8_t* page, uint8_t* out) -> size_t {
               const vm::EncodeResult r = vm::page_encode(page, out, kPage - 1, scratch);
               switch (r.kind) {
                 case vm::EncodeKind::kSingleValue:
                   out[kKind] = kSingle;
                   std::memcpy(out, &r.value, 8);
                   return kSingleValueBytes;
                 case vm::EncodeKind::kCompressed:
                   out[kKind] = kStream;
                   return r.length;
                 case vm::EncodeKind::kIncompressible:
                   return 0;
               }
               return 0;
             },
             [](const uint8_t* in, size_t length, uint8_t* page) {
               if (in[kKind] == kSingle) {
                 uint64_t v;
                 std::memcpy(&v, in, 8);
                 vm::page_fill_value(page, v);
                 return true;
               }
               return vm::page_decode(in, static_cast<uint32_t>(length), page) ==
                      vm::DecodeStatus::kOk;
             }};

  std::vector<char> lz4_state(static_cast<size_t>(LZ4_sizeofState()));
  Codec lz4{"lz4",
            [&](const uint8_t* page, uint8_t* out) -> size_t {
              const int n =
                  LZ4_compress_fast_extState(lz4_state.data(), reinterpret_cast<const char*>(page),
                                             reinterpret_cast<char*>(out), kPage, kSlot, 1);
              return n > 0 && static_cast<size_t>(n) < kPage ? static_cast<size_t>(n) : 0;
            },
            [](const uint8_t* in, size_t length, uint8_t* page) {
              return LZ4_decompress_safe(reinterpret_cast<const char*>(in),
                                         reinterpret_cast<char*>(page), static_cast<int>(length),
                                         kPage) == static_cast<int>(kPage);
            }};

  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  Codec zstd{"zstd",
             [&](const uint8_t* page, uint8_t* out) -> size_t {
               const size_t n = ZSTD_compressCCtx(cctx, out, kSlot, page, kPage, 1);
               return !ZSTD_isError(n) && n < kPage ? n : 0;
             },
             [&](const uint8_t* in, size_t length, uint8_t* page) {
               return ZSTD_decompressDCtx(dctx, page, kPage, in, length) == kPage;
             }};

  for (size_t i = 0; i < f.pages; ++i) {
    uint64_t v;
    if (vm::page_single_value(data.data() + i * kPage, &v)) ++f.single_value_pages;
  }
  try {
    f.core = measure(core, data);
    f.lz4 = measure(lz4, data);
    f.zstd = measure(zstd, data);
  } catch (...) {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    throw;
  }
  ZSTD_freeCCtx(cctx);
  ZSTD_freeDCtx(dctx);
  std::vector<uint8_t> out(kPage);
  for (size_t i = 0; i < f.pages; ++i)
    if (vm::page_encode(data.data() + i * kPage, out.data(), kPage - 1, scratch).kind ==
        vm::EncodeKind::kIncompressible)
      ++f.incompressible_pages;
  return f;
}

}  // namespace bench
