// The key-independent AVL algorithms: navigation, rebalancing after insert
// and erase, and the structural audit. Balance factors are
// height(right) - height(left); a rotation updates them with the general
// formulas, so the same code serves insert (child balance ±1) and erase
// (child balance may be 0).
#include "lib/avl_tree.hpp"

namespace vm::avl {
namespace {

inline int max0(int a) {
  return a > 0 ? a : 0;
}
inline int min0(int a) {
  return a < 0 ? a : 0;
}

// Every write to a node (or to the root pointer) opens it first: nodes sit
// in slab objects that slab sanity keeps read-only (lib/write_guard.hpp).
void set_root(AvlNode** root, AvlNode* to) {
  UseScope use(root);
  *root = to;
}
void set_parent(AvlNode* n, AvlNode* to) {
  UseScope use(n);
  n->parent = to;
}
void set_left(AvlNode* n, AvlNode* to) {
  UseScope use(n);
  n->left = to;
}
void set_right(AvlNode* n, AvlNode* to) {
  UseScope use(n);
  n->right = to;
}
void set_balance(AvlNode* n, int balance) {
  UseScope use(n);
  n->balance = static_cast<int8_t>(balance);
}

// Makes `to` take `from`'s place under `parent` (or as the root).
void replace_child(AvlNode** root, AvlNode* parent, AvlNode* from, AvlNode* to) {
  if (parent == nullptr) {
    set_root(root, to);
  } else if (parent->left == from) {
    set_left(parent, to);
  } else {
    set_right(parent, to);
  }
  if (to != nullptr) set_parent(to, parent);
}

/*    x              y
 *   / \            / \
 *  a   y    →     x   c
 *     / \        / \
 *    b   c      a   b
 */
AvlNode* rotate_left(AvlNode** root, AvlNode* x) {
  AvlNode* y = x->right;
  set_right(x, y->left);
  if (y->left != nullptr) set_parent(y->left, x);
  replace_child(root, x->parent, x, y);
  set_left(y, x);
  set_parent(x, y);
  const int xb = x->balance - 1 - max0(y->balance);
  const int yb = y->balance - 1 + min0(xb);
  set_balance(x, xb);
  set_balance(y, yb);
  return y;
}

// Mirror of rotate_left.
AvlNode* rotate_right(AvlNode** root, AvlNode* x) {
  AvlNode* y = x->left;
  set_left(x, y->right);
  if (y->right != nullptr) set_parent(y->right, x);
  replace_child(root, x->parent, x, y);
  set_right(y, x);
  set_parent(x, y);
  const int xb = x->balance + 1 - min0(y->balance);
  const int yb = y->balance + 1 + max0(xb);
  set_balance(x, xb);
  set_balance(y, yb);
  return y;
}

// `p` has balance ±2: one or two rotations. Returns the new subtree root.
AvlNode* rebalance(AvlNode** root, AvlNode* p) {
  if (p->balance > 0) {
    if (p->right->balance < 0) rotate_right(root, p->right);
    return rotate_left(root, p);
  }
  if (p->left->balance > 0) rotate_left(root, p->left);
  return rotate_right(root, p);
}

// Height of the subtree at `n`, or -1 after storing the broken invariant in
// *err. Recursion depth is the tree height; `depth` stops a corrupted
// (cyclic) structure from recursing without bound.
int check_subtree(const AvlNode* n, unsigned depth, size_t* count, const char** err) {
  if (n == nullptr) return 0;
  if (depth > 128) {
    *err = "avl.depth";
    return -1;
  }
  ++*count;
  if ((n->left != nullptr && n->left->parent != n) ||
      (n->right != nullptr && n->right->parent != n)) {
    *err = "avl.parent_link";
    return -1;
  }
  const int hl = check_subtree(n->left, depth + 1, count, err);
  if (hl < 0) return -1;
  const int hr = check_subtree(n->right, depth + 1, count, err);
  if (hr < 0) return -1;
  if (n->balance != hr - hl || n->balance < -1 || n->balance > 1) {
    *err = "avl.balance";
    return -1;
  }
  return 1 + (hl > hr ? hl : hr);
}

}  // namespace

AvlNode* first(AvlNode* n) {
  if (n == nullptr) return nullptr;
  while (n->left != nullptr) n = n->left;
  return n;
}

AvlNode* last(AvlNode* n) {
  if (n == nullptr) return nullptr;
  while (n->right != nullptr) n = n->right;
  return n;
}

AvlNode* next(AvlNode* n) {
  if (n->right != nullptr) return first(n->right);
  while (n->parent != nullptr && n->parent->right == n) n = n->parent;
  return n->parent;
}

AvlNode* prev(AvlNode* n) {
  if (n->left != nullptr) return last(n->left);
  while (n->parent != nullptr && n->parent->left == n) n = n->parent;
  return n->parent;
}

void insert_fixup(AvlNode** root, AvlNode* n) {
  // Walk up while the subtree under `p` grew by one level.
  for (AvlNode* p = n->parent; p != nullptr; n = p, p = n->parent) {
    set_balance(p, p->balance + (n == p->left ? -1 : +1));
    if (p->balance == 0) return;  // the shorter side caught up: height unchanged
    if (p->balance == 2 || p->balance == -2) {
      rebalance(root, p);  // restores the height before the insert
      return;
    }
  }
}

void erase(AvlNode** root, AvlNode* z) {
  // Find where the tree loses a level: (p, left_shrank).
  AvlNode* p;
  bool left_shrank;
  if (z->left != nullptr && z->right != nullptr) {
    // Two children: the successor s (leftmost of the right subtree, no left
    // child) takes z's place, balance included.
    AvlNode* s = first(z->right);
    if (s == z->right) {
      p = s;
      left_shrank = false;
    } else {
      p = s->parent;
      left_shrank = true;
      set_left(p, s->right);
      if (s->right != nullptr) set_parent(s->right, p);
      set_right(s, z->right);
      set_parent(z->right, s);
    }
    set_left(s, z->left);
    set_parent(z->left, s);
    set_balance(s, z->balance);
    replace_child(root, z->parent, z, s);
  } else {
    AvlNode* child = z->left != nullptr ? z->left : z->right;
    p = z->parent;
    left_shrank = p != nullptr && p->left == z;
    replace_child(root, p, z, child);
  }
  {
    UseScope use(z);
    z->parent = z->left = z->right = nullptr;
    z->balance = 0;
  }

  // Walk up while the subtree under `p` lost a level.
  while (p != nullptr) {
    set_balance(p, p->balance + (left_shrank ? +1 : -1));
    AvlNode* top = p;
    if (p->balance == 1 || p->balance == -1) return;  // was even: height unchanged
    if (p->balance != 0) {
      top = rebalance(root, p);
      if (top->balance != 0) return;  // rotation around an even child: height unchanged
    }
    AvlNode* parent = top->parent;
    if (parent != nullptr) left_shrank = parent->left == top;
    p = parent;
  }
}

const char* check_structure(const AvlNode* root, size_t size) {
  if (root != nullptr && root->parent != nullptr) return "avl.root_parent";
  const char* err = nullptr;
  size_t count = 0;
  if (check_subtree(root, 0, &count, &err) < 0) return err;
  if (count != size) return "avl.size";
  return nullptr;
}

}  // namespace vm::avl
