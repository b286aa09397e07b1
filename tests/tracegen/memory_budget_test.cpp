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

TEST(MemoryBudget, ReservesFramesNoPageStandsFor) {
  MemoryBudget budget(10);
  EXPECT_TRUE(budget.reserve(6));
  EXPECT_EQ(budget.used(), 6u);
  EXPECT_FALSE(budget.reserve(5));
  EXPECT_EQ(budget.used(), 6u);
  EXPECT_FALSE(budget.charge(0, 0x10000000));  // needs five
  EXPECT_TRUE(budget.reserve(4));
}

TEST(MemoryBudget, ForkChargesTheChildsPageTablesAndRechargesTheParentsPages) {
  MemoryBudget budget(100);
  ASSERT_TRUE(budget.charge(0, 0x10000000));
  ASSERT_TRUE(budget.charge(0, 0x10001000));
  ASSERT_TRUE(budget.charge(0, 0x7f0000000000));
  const uint64_t before = budget.used();  // 3 pages, 2 PTs, 2 PDs, 2 PDPTs, 1 PML4
  EXPECT_EQ(before, 10u);
  ASSERT_TRUE(budget.fork_process(0, 1));
  // The child's PML4, 2 PDPTs, 2 PDs, 2 PTs.
  EXPECT_EQ(budget.used(), before + 7);
  // The child's first touch of a page costs the page alone (a copy).
  EXPECT_EQ(budget.cost(1, 0x10000000), 1u);
  // So does the parent's next access to a page it had (its own copy).
  EXPECT_EQ(budget.cost(0, 0x10000000), 1u);
  Prng rng(3);
  EXPECT_FALSE(budget.random_charged_page(rng, 0).has_value());
  // Past the limit: nothing changes.
  MemoryBudget tight(6);
  ASSERT_TRUE(tight.charge(0, 0x10000000));
  EXPECT_FALSE(tight.fork_process(0, 1));
  EXPECT_EQ(tight.used(), 5u);
  EXPECT_EQ(tight.cost(0, 0x10000000), 0u);
}

TEST(MemoryBudget, ExecForgetsPagesButKeepsPageTables) {
  MemoryBudget budget(100);
  ASSERT_TRUE(budget.charge(2, 0x400000));
  EXPECT_EQ(budget.used(), 5u);
  budget.forget_pages(2);
  EXPECT_EQ(budget.used(), 5u);  // nothing is credited back
  EXPECT_EQ(budget.cost(2, 0x400000), 1u);
  EXPECT_EQ(budget.cost(2, 0x401000), 1u);
  budget.forget_pages(7);  // a process that charged nothing
  EXPECT_EQ(budget.used(), 5u);
}

}  // namespace
}  // namespace vmsim::tracegen
