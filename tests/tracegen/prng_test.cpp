#include "prng.hpp"

#include <gtest/gtest.h>

#include <set>

namespace vmsim::tracegen {
namespace {

// Reference values from an independent implementation of xoshiro256**
// seeded through splitmix64 and of Lemire's bounded integers.
TEST(Prng, MatchesReferenceSequence) {
  Prng rng(0);
  EXPECT_EQ(rng.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(rng.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(rng.next(), 0x1a5f849d4933e6e0ull);
  EXPECT_EQ(rng.next(), 0x6aa594f1262d2d2cull);
}

TEST(Prng, BoundedIntegersMatchReference) {
  Prng small(42);
  const uint64_t expected_small[] = {0, 3, 6, 9, 9, 7, 7, 8, 7, 5, 6, 2};
  for (uint64_t value : expected_small) EXPECT_EQ(small.below(10), value);
  Prng large(42);
  const uint64_t expected_large[] = {83863, 378981, 680045, 924695, 991806};
  for (uint64_t value : expected_large) EXPECT_EQ(large.below(1000003), value);
}

TEST(Prng, BelowStaysInRangeAndCoversIt) {
  Prng rng(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t value = rng.below(6);
    ASSERT_LT(value, 6u);
    seen.insert(value);
  }
  EXPECT_EQ(seen.size(), 6u);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t value = rng.between(10, 12);
    ASSERT_GE(value, 10u);
    ASSERT_LE(value, 12u);
  }
  EXPECT_EQ(rng.below(1), 0u);
}

}  // namespace
}  // namespace vmsim::tracegen
