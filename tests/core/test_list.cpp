// The intrusive list: order, O(1) removal anywhere, audit.
#include <gtest/gtest.h>

#include <list>
#include <random>
#include <vector>

#include "lib/list.hpp"

namespace {

struct Item {
  int v = 0;
  vm::ListNode link;
};
using List = vm::List<Item, &Item::link>;

std::vector<int> values(const List& l) {
  std::vector<int> out;
  for (Item* i = l.front(); i != nullptr; i = l.next(i)) out.push_back(i->v);
  return out;
}

TEST(List, EmptyList) {
  List l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.front(), nullptr);
  EXPECT_EQ(l.back(), nullptr);
  EXPECT_EQ(l.pop_front(), nullptr);
  EXPECT_EQ(l.pop_back(), nullptr);
  EXPECT_EQ(l.check(), nullptr);
}

TEST(List, PushPopOrder) {
  Item a{1, {}}, b{2, {}}, c{3, {}}, d{4, {}};
  List l;
  l.push_back(&b);
  l.push_front(&a);
  l.push_back(&d);
  l.insert_before(&d, &c);
  EXPECT_EQ(values(l), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l.back(), &d);
  EXPECT_EQ(l.prev(&a), nullptr);
  EXPECT_EQ(l.prev(&c), &b);
  EXPECT_EQ(l.next(&d), nullptr);
  EXPECT_TRUE(a.link.linked());
  EXPECT_EQ(l.pop_front(), &a);
  EXPECT_FALSE(a.link.linked());
  EXPECT_EQ(l.pop_back(), &d);
  l.insert_after(&b, &a);
  EXPECT_EQ(values(l), (std::vector<int>{2, 1, 3}));
  std::vector<int> seen;
  for (Item* i : l) seen.push_back(i->v);
  EXPECT_EQ(seen, (std::vector<int>{2, 1, 3}));
  EXPECT_EQ(l.check(), nullptr);
}

TEST(List, RemoveAnywhere) {
  std::vector<Item> items(8);
  List l;
  for (int i = 0; i < 8; ++i) {
    items[i].v = i;
    l.push_back(&items[i]);
  }
  l.remove(&items[0]);
  l.remove(&items[7]);
  l.remove(&items[4]);
  EXPECT_EQ(values(l), (std::vector<int>{1, 2, 3, 5, 6}));
  EXPECT_FALSE(items[4].link.linked());
  EXPECT_EQ(l.check(), nullptr);
  // Removal while walking, the documented way.
  for (Item *i = l.front(), *n; i != nullptr; i = n) {
    n = l.next(i);
    if (i->v % 2 == 1) l.remove(i);
  }
  EXPECT_EQ(values(l), (std::vector<int>{2, 6}));
}

TEST(List, RandomAgainstStdList) {
  std::mt19937 rng(99);
  std::vector<Item> items(100);
  for (int i = 0; i < 100; ++i) items[i].v = i;
  std::list<int> ref;
  List l;
  for (int op = 0; op < 5000; ++op) {
    const int k = rng() % 100;
    if (items[k].link.linked()) {
      l.remove(&items[k]);
      ref.remove(k);
    } else if (rng() % 2) {
      l.push_front(&items[k]);
      ref.push_front(k);
    } else {
      l.push_back(&items[k]);
      ref.push_back(k);
    }
    ASSERT_EQ(l.check(), nullptr);
    ASSERT_EQ(l.size(), ref.size());
  }
  EXPECT_EQ(values(l), std::vector<int>(ref.begin(), ref.end()));
}

TEST(List, CheckDetectsBrokenLink) {
  Item a{1, {}}, b{2, {}}, c{3, {}};
  List l;
  l.push_back(&a);
  l.push_back(&b);
  l.push_back(&c);
  vm::ListNode* saved = b.link.prev;
  b.link.prev = &c.link;
  EXPECT_STREQ(l.check(), "list.link");
  b.link.prev = saved;
  EXPECT_EQ(l.check(), nullptr);
}

}  // namespace
