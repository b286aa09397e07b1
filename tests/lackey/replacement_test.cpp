// Exact LRU and Belady's OPT (sim/lackey/replacement.hpp) against textbook
// strings and against brute-force versions on random strings.
#include "lackey/replacement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "lackey/reference_string.hpp"

namespace vmsim {
namespace {

// Belady's anomaly string: with 3 frames LRU misses 10 times, OPT 7.
TEST(ReplacementTest, TextbookString) {
  const std::vector<uint32_t> s = {0, 1, 2, 3, 0, 1, 4, 0, 1, 2, 3, 4};
  EXPECT_EQ(lru_misses(s, 5, 3), 10u);
  EXPECT_EQ(opt_misses(s, 5, 3), 7u);
  EXPECT_EQ(lru_misses(s, 5, 4), 8u);
  EXPECT_EQ(opt_misses(s, 5, 4), 6u);
  EXPECT_EQ(lru_misses(s, 5, 5), 5u) << "only cold misses when everything fits";
  EXPECT_EQ(opt_misses(s, 5, 5), 5u);
}

// A loop one page larger than memory: LRU misses every time, OPT about once
// per round per page beyond the memory.
TEST(ReplacementTest, LoopLargerThanMemory) {
  std::vector<uint32_t> s;
  for (int round = 0; round < 10; ++round)
    for (uint32_t p = 0; p < 5; ++p) s.push_back(p);
  EXPECT_EQ(lru_misses(s, 5, 4), 50u);
  EXPECT_LT(opt_misses(s, 5, 4), 20u);
}

uint64_t brute_lru(const std::vector<uint32_t>& s, uint64_t capacity) {
  std::vector<uint32_t> order;  // most recent last
  uint64_t misses = 0;
  for (uint32_t p : s) {
    auto it = std::find(order.begin(), order.end(), p);
    if (it != order.end()) {
      order.erase(it);
    } else {
      ++misses;
      if (order.size() == capacity) order.erase(order.begin());
    }
    order.push_back(p);
  }
  return misses;
}

uint64_t brute_opt(const std::vector<uint32_t>& s, uint64_t capacity) {
  std::vector<uint32_t> in;
  uint64_t misses = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::find(in.begin(), in.end(), s[i]) != in.end()) continue;
    ++misses;
    if (in.size() == capacity) {
      size_t victim = 0, farthest = 0;
      for (size_t k = 0; k < in.size(); ++k) {
        size_t next = i + 1;
        while (next < s.size() && s[next] != in[k]) ++next;
        if (next >= farthest) {
          farthest = next;
          victim = k;
        }
      }
      in.erase(in.begin() + static_cast<long>(victim));
    }
    in.push_back(s[i]);
  }
  return misses;
}

TEST(ReplacementTest, AgreesWithBruteForceOnRandomStrings) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    const uint32_t pages = 2 + rng() % 30;
    std::vector<uint32_t> s(1 + rng() % 300);
    // Skewed: some pages much hotter than others, as in programs.
    for (uint32_t& p : s) p = std::min<uint32_t>(rng() % pages, rng() % pages);
    const uint64_t capacity = 1 + rng() % pages;
    ASSERT_EQ(lru_misses(s, pages, capacity), brute_lru(s, capacity)) << round;
    ASSERT_EQ(opt_misses(s, pages, capacity), brute_opt(s, capacity)) << round;
    ASSERT_LE(opt_misses(s, pages, capacity), lru_misses(s, pages, capacity));
  }
}

// Repeats of the page just referenced are dropped: they hit under any
// policy, so the misses are the same with or without them.
TEST(ReplacementTest, ReferenceStringDropsImmediateRepeats) {
  ReferenceString r;
  for (uint64_t page : {7, 7, 7, 9, 9, 7, 100, 100, 7}) r.reference(page);
  EXPECT_EQ(r.refs(), (std::vector<uint32_t>{0, 1, 0, 2, 0}));
  EXPECT_EQ(r.distinct_pages(), 3u);
  EXPECT_EQ(r.id_of(100), 2u);
  const std::vector<uint32_t> full = {0, 0, 0, 1, 1, 0, 2, 2, 0};
  for (uint64_t c = 1; c <= 3; ++c) {
    EXPECT_EQ(lru_misses(r.refs(), 3, c), brute_lru(full, c));
    EXPECT_EQ(opt_misses(r.refs(), 3, c), brute_opt(full, c));
  }
}

}  // namespace
}  // namespace vmsim
