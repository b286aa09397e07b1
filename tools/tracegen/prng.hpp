// The generator's only source of randomness: xoshiro256** seeded through
// splitmix64, with its own bounded-integer function. Everything here is exact
// 64-bit integer arithmetic, so one seed gives the same numbers with every
// compiler and standard library (std::uniform_int_distribution does not).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace vmsim::tracegen {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& word : s_) word = splitmix64(sm);
  }

  // xoshiro256**.
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n must be > 0. Lemire's multiply-and-reject method.
  uint64_t below(uint64_t n) {
    uint64_t x = next();
    unsigned __int128 m = static_cast<unsigned __int128>(x) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        x = next();
        m = static_cast<unsigned __int128>(x) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi] (inclusive); requires lo <= hi.
  uint64_t between(uint64_t lo, uint64_t hi) {
    const uint64_t span = hi - lo;
    return span == UINT64_MAX ? next() : lo + below(span + 1);
  }

  // True with probability percent/100.
  bool chance(uint32_t percent) { return below(100) < percent; }

  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[below(i)]);
    }
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace vmsim::tracegen
