// AvlTree against std::set: random operations with the audit after each.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "lib/avl_tree.hpp"

namespace {

struct Item {
  vm::u64 key = 0;
  vm::AvlNode node;
};
struct ItemKey {
  vm::u64 operator()(const Item& i) const { return i.key; }
};
using Tree = vm::AvlTree<Item, &Item::node, ItemKey>;

// Expected answers from the reference set.
const Item* ref_lower_bound(const std::set<vm::u64>& s, vm::u64 k, const std::vector<Item>& items) {
  auto it = s.lower_bound(k);
  return it == s.end() ? nullptr : &items[*it];
}

TEST(AvlTree, EmptyTree) {
  Tree t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.first(), nullptr);
  EXPECT_EQ(t.last(), nullptr);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_EQ(t.lower_bound(0), nullptr);
  EXPECT_EQ(t.floor(~0ull), nullptr);
  EXPECT_EQ(t.pop_first(), nullptr);
  EXPECT_EQ(t.check(), nullptr);
}

TEST(AvlTree, DuplicateKeyRejected) {
  Item a{5, {}}, b{5, {}};
  Tree t;
  EXPECT_TRUE(t.insert(&a));
  EXPECT_FALSE(t.insert(&b));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(5), &a);
  EXPECT_EQ(t.check(), nullptr);
}

TEST(AvlTree, BoundsSemantics) {
  std::vector<Item> items(5);
  const vm::u64 keys[] = {10, 20, 30, 40, 50};
  Tree t;
  for (int i = 0; i < 5; ++i) {
    items[i].key = keys[i];
    ASSERT_TRUE(t.insert(&items[i]));
  }
  EXPECT_EQ(t.lower_bound(0), &items[0]);
  EXPECT_EQ(t.lower_bound(10), &items[0]);
  EXPECT_EQ(t.lower_bound(11), &items[1]);
  EXPECT_EQ(t.lower_bound(50), &items[4]);
  EXPECT_EQ(t.lower_bound(51), nullptr);
  EXPECT_EQ(t.upper_bound(10), &items[1]);
  EXPECT_EQ(t.upper_bound(50), nullptr);
  EXPECT_EQ(t.floor(9), nullptr);
  EXPECT_EQ(t.floor(10), &items[0]);
  EXPECT_EQ(t.floor(29), &items[1]);
  EXPECT_EQ(t.floor(30), &items[2]);
  EXPECT_EQ(t.floor(~0ull), &items[4]);
  EXPECT_EQ(t.first(), &items[0]);
  EXPECT_EQ(t.last(), &items[4]);
  EXPECT_EQ(t.next(&items[4]), nullptr);
  EXPECT_EQ(t.prev(&items[0]), nullptr);
  EXPECT_EQ(t.next(&items[2]), &items[3]);
  EXPECT_EQ(t.prev(&items[2]), &items[1]);
  std::vector<vm::u64> seen;
  for (Item* i : t) seen.push_back(i->key);
  EXPECT_EQ(seen, std::vector<vm::u64>(std::begin(keys), std::end(keys)));
}

TEST(AvlTree, AscendingAndDescendingInsertStayBalanced) {
  constexpr int kN = 4096;
  std::vector<Item> items(kN);
  Tree up, down;
  std::vector<Item> items2(kN);
  for (int i = 0; i < kN; ++i) {
    items[i].key = i;
    items2[i].key = kN - i;
    ASSERT_TRUE(up.insert(&items[i]));
    ASSERT_TRUE(down.insert(&items2[i]));
  }
  EXPECT_EQ(up.check(), nullptr);
  EXPECT_EQ(down.check(), nullptr);
  // Remove every other one, then the rest, from the front.
  for (int i = 0; i < kN; i += 2) up.remove(&items[i]);
  EXPECT_EQ(up.check(), nullptr);
  EXPECT_EQ(up.size(), static_cast<size_t>(kN / 2));
  while (Item* i = up.pop_first()) EXPECT_EQ(i->key % 2, 1u);
  EXPECT_TRUE(up.empty());
  EXPECT_EQ(up.check(), nullptr);
}

// Thousands of random inserts/removes over a small key space (so removals
// hit), audited after every operation, and lookups compared with std::set.
void random_ops(uint32_t seed, int ops, vm::u64 key_space) {
  std::mt19937_64 rng(seed);
  std::vector<Item> items(key_space);
  for (vm::u64 k = 0; k < key_space; ++k) items[k].key = k * 3;  // gaps for bounds
  std::set<vm::u64> ref;                                         // indices of items in the tree
  Tree t;
  for (int op = 0; op < ops; ++op) {
    const vm::u64 k = rng() % key_space;
    if (ref.count(k)) {
      t.remove(&items[k]);
      ref.erase(k);
    } else {
      ASSERT_TRUE(t.insert(&items[k]));
      ref.insert(k);
    }
    const char* err = t.check();
    ASSERT_EQ(err, nullptr) << "seed " << seed << " op " << op << ": " << err;
    ASSERT_EQ(t.size(), ref.size());

    const vm::u64 probe = rng() % (key_space * 3 + 2);
    // Keys are 3*index: index bounds from the probe.
    const vm::u64 lb_index = (probe + 2) / 3;
    const Item* want_lb = ref_lower_bound(ref, lb_index, items);
    ASSERT_EQ(t.lower_bound(probe), want_lb) << "lower_bound " << probe;
    auto it = ref.upper_bound(probe / 3);
    const Item* want_floor = it == ref.begin() ? nullptr : &items[*std::prev(it)];
    ASSERT_EQ(t.floor(probe), want_floor) << "floor " << probe;
    const Item* want_find = (probe % 3 == 0 && ref.count(probe / 3)) ? &items[probe / 3] : nullptr;
    ASSERT_EQ(t.find(probe), want_find);
  }
  // Full in-order walk, both directions.
  std::vector<vm::u64> fwd, back;
  for (Item* i = t.first(); i != nullptr; i = t.next(i)) fwd.push_back(i->key / 3);
  for (Item* i = t.last(); i != nullptr; i = t.prev(i)) back.insert(back.begin(), i->key / 3);
  std::vector<vm::u64> want(ref.begin(), ref.end());
  EXPECT_EQ(fwd, want);
  EXPECT_EQ(back, want);
}

TEST(AvlTree, RandomAgainstStdSetSmallKeys) {
  for (uint32_t seed : {1u, 2u, 3u, 42u}) random_ops(seed, 5000, 64);
}

TEST(AvlTree, RandomAgainstStdSetLargeKeys) {
  for (uint32_t seed : {7u, 1234u}) random_ops(seed, 20000, 2048);
}

TEST(AvlTree, KeyChangeInPlaceBetweenNeighbours) {
  Item a{10, {}}, b{20, {}}, c{30, {}};
  Tree t;
  t.insert(&a);
  t.insert(&b);
  t.insert(&c);
  b.key = 25;  // still between 10 and 30 (a region clipped at its start)
  EXPECT_EQ(t.check(), nullptr);
  EXPECT_EQ(t.find(25), &b);
  b.key = 35;  // crosses a neighbour: the audit notices
  EXPECT_STREQ(t.check(), "avl.order");
}

TEST(AvlTree, CheckDetectsCorruption) {
  std::vector<Item> items(16);
  Tree t;
  for (int i = 0; i < 16; ++i) {
    items[i].key = i;
    t.insert(&items[i]);
  }
  ASSERT_EQ(t.check(), nullptr);
  Item* root = &items[0];
  while (root->node.parent != nullptr)
    root =
        reinterpret_cast<Item*>(reinterpret_cast<char*>(root->node.parent) - offsetof(Item, node));
  const int8_t saved = root->node.balance;
  root->node.balance = static_cast<int8_t>(saved + 1);
  EXPECT_STREQ(t.check(), "avl.balance");
  root->node.balance = saved;
  vm::AvlNode* saved_parent = root->node.left->parent;
  root->node.left->parent = nullptr;
  EXPECT_STREQ(t.check(), "avl.parent_link");
  root->node.left->parent = saved_parent;
  EXPECT_EQ(t.check(), nullptr);
}

}  // namespace

namespace {
// A tree with static storage is constant-initialized (no global constructors).
constinit Tree g_tree;
TEST(AvlTree, ConstantInitialized) {
  EXPECT_TRUE(g_tree.empty());
}
}  // namespace
