#include "memory_budget.hpp"

#include <gtest/gtest.h>

namespace vmsim::tracegen {
namespace {

TEST(MemoryBudget, ChargesPagesAndTheirPageTablesOnce) {
  MemoryBudget budget(100);
  ASSERT_TRUE(budget.charge(0, 0x10000000));
  EXPECT_EQ(budget.used(), 5u);  // page + PT + PD + PDPT + PML4
  ASSERT_TRUE(budget.charge(0, 0x10000ff8));
  EXPECT_EQ(budget.used(), 5u);  // same page
  ASSERT_TRUE(budget.charge(0, 0x10001000));
  EXPECT_EQ(budget.used(), 6u);  // same page table
  ASSERT_TRUE(budget.charge(1, 0x10001000));
  EXPECT_EQ(budget.used(), 11u);          // another process
  EXPECT_TRUE(budget.charge(0, 0x1000));  // never mappable: free
  EXPECT_EQ(budget.used(), 11u);
}

TEST(MemoryBudget, RefusesPastItsLimitAndOffersChargedPages) {
  MemoryBudget budget(6);
  ASSERT_TRUE(budget.charge(0, 0x20000000));
  EXPECT_FALSE(budget.charge(0, 0x30000000));  // would need four more frames
  EXPECT_TRUE(budget.charge(0, 0x20001000));
  EXPECT_FALSE(budget.charge(0, 0x20002000));
  EXPECT_EQ(budget.used(), 6u);
  Prng rng(1);
  for (int i = 0; i < 20; ++i) {
    const auto page = budget.random_charged_page(rng, 0);
    ASSERT_TRUE(page.has_value());
    EXPECT_TRUE(*page == 0x20000000u || *page == 0x20001000u);
  }
  EXPECT_FALSE(budget.random_charged_page(rng, 1).has_value());
}

}  // namespace
}  // namespace vmsim::tracegen
