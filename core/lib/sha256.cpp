// SHA-256 as FIPS 180-4 defines it.
#include "lib/sha256.hpp"

#include "lib/mem.hpp"

// SSE2 is off only in the kernel build (-mgeneral-regs-only).
#if defined(__x86_64__) && defined(__SSE2__)
#define VM_SHA256_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace vm {
namespace {

constexpr u32 kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

constexpr u32 rotr(u32 x, unsigned n) {
  return (x >> n) | (x << (32 - n));
}

#ifdef VM_SHA256_SHA_NI
// CPUID.(7,0):EBX[29] SHA, CPUID.1:ECX[19] SSE4.1 and [9] SSSE3. Asked once;
// a racing first use asks twice and stores the same answer.
int g_sha_ni = -1;

bool detect_sha_ni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  const bool sse = ((c >> 19) & 1) != 0 && ((c >> 9) & 1) != 0;
  if (!sse || __get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return ((b >> 29) & 1) != 0;
}
#endif

}  // namespace

bool Sha256::hardware_available() {
#ifdef VM_SHA256_SHA_NI
  int known = __atomic_load_n(&g_sha_ni, __ATOMIC_RELAXED);
  if (known < 0) {
    known = detect_sha_ni() ? 1 : 0;
    __atomic_store_n(&g_sha_ni, known, __ATOMIC_RELAXED);
  }
  return known != 0;
#else
  return false;
#endif
}

void Sha256::reset() {
  hardware_ = hardware_available();
  static constexpr u32 kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  mem_copy(h_, kInit, sizeof h_);
  buf_len_ = 0;
  total_len_ = 0;
}

void Sha256::blocks(const u8* p, size_t count) {
#ifdef VM_SHA256_SHA_NI
  if (hardware_) {
    hardware_blocks(p, count);
    return;
  }
#endif
  for (; count != 0; --count, p += 64) portable_block(p);
}

#ifdef VM_SHA256_SHA_NI
// The state lives in two registers as the SHA-NI rounds want it: ABEF and
// CDGH (A in the top lane). Each sha256rnds2 does two rounds; the message
// schedule keeps the last four groups of four words in a ring.
__attribute__((target("sha,sse4.1,ssse3"))) void Sha256::hardware_blocks(const u8* p,
                                                                         size_t count) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&h_[0]));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&h_[4]));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
  for (; count != 0; --count, p += 64) {
    const __m128i abef_in = abef;
    const __m128i cdgh_in = cdgh;
    __m128i w[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      __m128i& group = w[g % 4];
      if (g < 4) {
        group = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)),
                                 byte_swap);
      } else {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time.
        const __m128i older = _mm_sha256msg1_epu32(group, w[(g + 1) % 4]);
        const __m128i minus7 = _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4);
        group = _mm_sha256msg2_epu32(_mm_add_epi32(older, minus7), w[(g + 3) % 4]);
      }
      __m128i wk =
          _mm_add_epi32(group, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRound[4 * g])));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      wk = _mm_shuffle_epi32(wk, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  hgfe = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&h_[0]), dcba);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&h_[4]), hgfe);
}
#endif

void Sha256::portable_block(const u8* p) {
  u32 w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = u32(p[4 * i]) << 24 | u32(p[4 * i + 1]) << 16 | u32(p[4 * i + 2]) << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; ++i) {
    u32 s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    u32 s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  u32 a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    u32 t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
    u32 t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const void* data, size_t len) {
  const u8* p = static_cast<const u8*>(data);
  total_len_ += len;
  if (buf_len_ > 0) {
    size_t take = 64 - buf_len_ < len ? 64 - buf_len_ : len;
    mem_copy(buf_ + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    len -= take;
    if (buf_len_ < 64) return;
    blocks(buf_, 1);
    buf_len_ = 0;
  }
  blocks(p, len / 64);
  p += len & ~size_t{63};
  len &= 63;
  mem_copy(buf_, p, len);
  buf_len_ = len;
}

void Sha256::finish(u8 out[32]) {
  u64 bits = total_len_ * 8;
  u8 pad = 0x80;
  update(&pad, 1);
  u8 zero = 0;
  while (buf_len_ != 56) update(&zero, 1);
  u8 len_be[8];
  for (int i = 0; i < 8; ++i) len_be[i] = u8(bits >> (56 - 8 * i));
  update(len_be, 8);
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = u8(h_[i] >> 24);
    out[4 * i + 1] = u8(h_[i] >> 16);
    out[4 * i + 2] = u8(h_[i] >> 8);
    out[4 * i + 3] = u8(h_[i]);
  }
}

}  // namespace vm
