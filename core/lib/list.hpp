// Intrusive doubly linked list (FreeBSD TAILQ, Linux list_head): the links
// live in the element, so insertion and removal never allocate and removal
// is O(1) given the element alone.
//
//   struct Page { ListNode queue_node; ... };
//   List<Page, &Page::queue_node> free_list;
//   for (Page* p = free_list.front(); p != nullptr; p = free_list.next(p)) ...
//
// An element is on at most one list through a given ListNode; the list does
// not own its elements.
//
// Every node write opens the node (lib/write_guard.hpp: a node may sit in
// a slab object that slab sanity keeps read-only).
//
// Locking: none inside. The structure that holds the list says which lock
// guards it (GUARDED_BY on the List field; docs/locking.md), and that lock
// guards the elements' ListNodes too.
#pragma once

#include "lib/container_of.hpp"
#include "lib/types.hpp"
#include "lib/write_guard.hpp"

namespace vm {

struct ListNode {
  // Invariant: both nullptr exactly when the node is on no list.
  ListNode* prev = nullptr;
  ListNode* next = nullptr;

  bool linked() const { return next != nullptr; }
};

template <class T, ListNode T::*Member>
class List {
 public:
  // constexpr so a List with static storage is constant-initialized (the
  // core has no global constructors). The list is circular through head_,
  // which makes it immovable: copying is deleted.
  constexpr List() : head_{&head_, &head_} {}
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool empty() const { return head_.next == &head_; }
  size_t size() const { return size_; }

  T* front() const { return empty() ? nullptr : elem(head_.next); }
  T* back() const { return empty() ? nullptr : elem(head_.prev); }
  // The element after / before `item` on this list, nullptr at the end.
  T* next(const T* item) const {
    const ListNode* n = node(item)->next;
    return n == &head_ ? nullptr : elem(n);
  }
  T* prev(const T* item) const {
    const ListNode* n = node(item)->prev;
    return n == &head_ ? nullptr : elem(n);
  }

  // `item` must not be on any list through this node.
  void push_front(T* item) { link_after(&head_, node(item)); }
  void push_back(T* item) { link_after(head_.prev, node(item)); }
  // Inserts `item` right after / before `pos`, which is on this list.
  void insert_after(T* pos, T* item) { link_after(node(pos), node(item)); }
  void insert_before(T* pos, T* item) { link_after(node(pos)->prev, node(item)); }

  T* pop_front() {
    T* item = front();
    if (item != nullptr) remove(item);
    return item;
  }
  T* pop_back() {
    T* item = back();
    if (item != nullptr) remove(item);
    return item;
  }
  // `item` must be on this list. Its node is left unlinked (nullptr links).
  void remove(T* item) {
    ListNode* n = node(item);
    set_next(n->prev, n->next);
    set_prev(n->next, n->prev);
    {
      UseScope use(n);
      n->prev = nullptr;
      n->next = nullptr;
    }
    UseScope use(this);  // the list itself may sit in a slab object
    --size_;
  }

  // Audit: every link is mirrored and the count matches. nullptr or the
  // name of the broken invariant. Walks at most size()+1 nodes, so a
  // corrupted (cyclic) list cannot hang it.
  const char* check() const {
    const ListNode* n = &head_;
    for (size_t i = 0; i <= size_; ++i) {
      if (n->next == nullptr || n->next->prev != n) return "list.link";
      n = n->next;
      if (n == &head_) return i == size_ ? nullptr : "list.size";
    }
    return "list.size";
  }

  // Range-for support. Do not remove the current element while iterating
  // this way; use `for (p = front(); p; p = n) { n = next(p); ... }` instead.
  class Iterator {
   public:
    Iterator(const ListNode* n) : n_(n) {}
    T* operator*() const { return elem(n_); }
    Iterator& operator++() {
      n_ = n_->next;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return n_ != o.n_; }

   private:
    const ListNode* n_;
  };
  Iterator begin() const { return Iterator(head_.next); }
  Iterator end() const { return Iterator(&head_); }

 private:
  static ListNode* node(const T* item) { return const_cast<ListNode*>(&(item->*Member)); }
  static T* elem(const ListNode* n) { return const_cast<T*>(container_of<T, ListNode, Member>(n)); }
  void link_after(ListNode* pos, ListNode* n) {
    {
      UseScope use(n);
      n->prev = pos;
      n->next = pos->next;
    }
    set_prev(pos->next, n);
    set_next(pos, n);
    UseScope use(this);
    ++size_;
  }
  // A neighbour's link: the neighbour may sit in a checked slab frame.
  static void set_next(ListNode* at, ListNode* to) {
    UseScope use(at);
    at->next = to;
  }
  static void set_prev(ListNode* at, ListNode* to) {
    UseScope use(at);
    at->prev = to;
  }

  ListNode head_;  // sentinel: head_.next is the front, head_.prev the back
  size_t size_ = 0;
};

}  // namespace vm
