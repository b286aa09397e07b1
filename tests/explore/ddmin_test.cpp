// Delta debugging over index sets.
#include "explore/ddmin.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace vmsim::explore {
namespace {

bool has_all(const std::vector<size_t>& kept, std::initializer_list<size_t> needed) {
  return std::all_of(needed.begin(), needed.end(), [&](size_t x) {
    return std::find(kept.begin(), kept.end(), x) != kept.end();
  });
}

TEST(Ddmin, FindsTheTwoItemsThatMatter) {
  size_t tests = 0;
  std::vector<size_t> kept = ddmin(40, [&](const std::vector<size_t>& k) {
    ++tests;
    return has_all(k, {3, 27});
  });
  EXPECT_EQ(kept, (std::vector<size_t>{3, 27}));
  EXPECT_LT(tests, 60u);
}

TEST(Ddmin, KeepsTheOrderAndReachesOneMinimal) {
  // Fails while at least 3 of the even items 10..20 remain.
  auto fails = [](const std::vector<size_t>& k) {
    return std::count_if(k.begin(), k.end(),
                         [](size_t x) { return x >= 10 && x <= 20 && x % 2 == 0; }) >= 3;
  };
  std::vector<size_t> kept = ddmin(32, fails);
  EXPECT_EQ(kept.size(), 3u);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  for (size_t i = 0; i < kept.size(); ++i) {
    std::vector<size_t> less = kept;
    less.erase(less.begin() + i);
    EXPECT_FALSE(fails(less));
  }
}

TEST(Ddmin, EmptyWhenNothingIsNeeded) {
  EXPECT_TRUE(ddmin(7, [](const std::vector<size_t>&) { return true; }).empty());
  EXPECT_TRUE(ddmin(0, [](const std::vector<size_t>&) { return true; }).empty());
}

TEST(Ddmin, EverythingWhenEveryItemIsNeeded) {
  std::vector<size_t> kept = ddmin(5, [](const std::vector<size_t>& k) { return k.size() == 5; });
  EXPECT_EQ(kept.size(), 5u);
}

}  // namespace
}  // namespace vmsim::explore
