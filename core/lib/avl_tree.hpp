// Intrusive AVL tree keyed by a u64 (MINIX's region tree, FreeBSD's
// vm_map entries): the resident pages of a memory object by page index, the
// regions of an address space by start address. Links live in the element,
// so nothing allocates; every operation is O(log n) and iterative except
// check(), whose recursion is bounded by the tree height.
//
//   struct PageIndexKey { u64 operator()(const Page& p) const { return p.index; } };
//   AvlTree<Page, &Page::object_node, PageIndexKey> resident;
//   for (Page* p = resident.first(); p != nullptr; p = resident.next(p)) ...
//
// Keys are unique. An element's key must not change while it is in the tree,
// except in place when the new key stays strictly between the keys of its
// neighbours (prev/next): the order, which is all the tree stores, is kept
// (vm_map clipping a region's start relies on this).
//
// Locking: none inside. The structure that holds the tree says which lock
// guards it (GUARDED_BY on the tree field; docs/locking.md), and that lock
// guards the elements' AvlNodes too.
#pragma once

#include "lib/container_of.hpp"
#include "lib/types.hpp"
#include "lib/write_guard.hpp"

namespace vm {

struct AvlNode {
  AvlNode* parent = nullptr;  // nullptr at the root (and when not in a tree)
  AvlNode* left = nullptr;    // keys below this node's
  AvlNode* right = nullptr;   // keys above this node's
  // Invariant: height(right) - height(left), in {-1, 0, +1}.
  int8_t balance = 0;
};

// The key-independent half, shared by every instantiation (avl_tree.cpp).
namespace avl {
AvlNode* first(AvlNode* root);
AvlNode* last(AvlNode* root);
AvlNode* next(AvlNode* node);
AvlNode* prev(AvlNode* node);
// `node` was just linked as a leaf under its parent (or as the root):
// restores the balance invariant up the path.
void insert_fixup(AvlNode** root, AvlNode* node);
// Unlinks `node` and rebalances. The node's links are cleared.
void erase(AvlNode** root, AvlNode* node);
// Parent links, balance factors against real heights, node count.
const char* check_structure(const AvlNode* root, size_t size);
}  // namespace avl

// KeyOf: a default-constructible functor, `u64 KeyOf{}(const T&)`.
template <class T, AvlNode T::*Member, class KeyOf>
class AvlTree {
 public:
  constexpr AvlTree() = default;
  AvlTree(const AvlTree&) = delete;
  AvlTree& operator=(const AvlTree&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Links `item`; false (and nothing changes) if its key is already present.
  bool insert(T* item) {
    const u64 key = key_of(item);
    AvlNode* parent = nullptr;
    AvlNode** link = &root_;
    while (*link != nullptr) {
      parent = *link;
      const u64 k = key_of(elem(parent));
      if (key == k) return false;
      link = key < k ? &parent->left : &parent->right;
    }
    AvlNode* n = node(item);
    {
      UseScope use(n);
      n->parent = parent;
      n->left = nullptr;
      n->right = nullptr;
      n->balance = 0;
    }
    {
      UseScope use(link);  // the parent's child link, or root_
      *link = n;
    }
    bump_size(+1);
    avl::insert_fixup(&root_, n);
    return true;
  }

  // `item` must be in this tree.
  void remove(T* item) {
    avl::erase(&root_, node(item));
    bump_size(-1);
  }

  // Unlinks and returns the smallest element (teardown loops), nullptr if empty.
  T* pop_first() {
    T* item = first();
    if (item != nullptr) remove(item);
    return item;
  }

  T* find(u64 key) const {
    for (AvlNode* n = root_; n != nullptr;) {
      const u64 k = key_of(elem(n));
      if (key == k) return elem(n);
      n = key < k ? n->left : n->right;
    }
    return nullptr;
  }

  // The first element with key >= `key`, nullptr if none.
  T* lower_bound(u64 key) const {
    AvlNode* best = nullptr;
    for (AvlNode* n = root_; n != nullptr;) {
      if (key_of(elem(n)) >= key) {
        best = n;
        n = n->left;
      } else {
        n = n->right;
      }
    }
    return best == nullptr ? nullptr : elem(best);
  }

  // The first element with key > `key`, nullptr if none.
  T* upper_bound(u64 key) const {
    AvlNode* best = nullptr;
    for (AvlNode* n = root_; n != nullptr;) {
      if (key_of(elem(n)) > key) {
        best = n;
        n = n->left;
      } else {
        n = n->right;
      }
    }
    return best == nullptr ? nullptr : elem(best);
  }

  // The last element with key <= `key`, nullptr if none (e.g. the region
  // that may contain an address).
  T* floor(u64 key) const {
    AvlNode* best = nullptr;
    for (AvlNode* n = root_; n != nullptr;) {
      if (key_of(elem(n)) <= key) {
        best = n;
        n = n->right;
      } else {
        n = n->left;
      }
    }
    return best == nullptr ? nullptr : elem(best);
  }

  T* first() const { return elem_or_null(avl::first(root_)); }
  T* last() const { return elem_or_null(avl::last(root_)); }
  // In-order neighbours of `item` (which is in this tree), nullptr at the ends.
  T* next(const T* item) const { return elem_or_null(avl::next(node(item))); }
  T* prev(const T* item) const { return elem_or_null(avl::prev(node(item))); }

  // Audit: structure (parent links, balance factors, size), then strictly
  // ascending keys. nullptr or the name of the first broken invariant.
  const char* check() const {
    if (const char* err = avl::check_structure(root_, size_)) return err;
    const T* prev_item = nullptr;
    for (const T* p = first(); p != nullptr; p = next(p)) {
      if (prev_item != nullptr && !(key_of(prev_item) < key_of(p))) return "avl.order";
      prev_item = p;
    }
    return nullptr;
  }

  // Range-for support (ascending). Do not remove the current element while
  // iterating this way.
  class Iterator {
   public:
    Iterator(AvlNode* n) : n_(n) {}
    T* operator*() const { return elem(n_); }
    Iterator& operator++() {
      n_ = avl::next(n_);
      return *this;
    }
    bool operator!=(const Iterator& o) const { return n_ != o.n_; }

   private:
    AvlNode* n_;
  };
  Iterator begin() const { return Iterator(avl::first(root_)); }
  Iterator end() const { return Iterator(nullptr); }

 private:
  static u64 key_of(const T* item) { return KeyOf{}(*item); }
  static AvlNode* node(const T* item) { return const_cast<AvlNode*>(&(item->*Member)); }
  static T* elem(const AvlNode* n) { return const_cast<T*>(container_of<T, AvlNode, Member>(n)); }
  static T* elem_or_null(const AvlNode* n) { return n == nullptr ? nullptr : elem(n); }

  void bump_size(int by) {
    UseScope use(this);  // the tree itself may sit in a slab object
    size_ += static_cast<size_t>(by);
  }

  AvlNode* root_ = nullptr;
  size_t size_ = 0;  // Invariant: number of nodes reachable from root_.
};

}  // namespace vm
