// The kernel's lists of named things (processes, files, devices), each kept
// in bytewise name order: the order the state digest walks them in.
#pragma once

#include "lib/list.hpp"
#include "lib/mem.hpp"

namespace vm {

// Links `item` (its name set) before the first element whose name sorts after it.
template <class T, ListNode T::*Link>
void insert_by_name(List<T, Link>& list, T* item) {
  T* after = list.front();
  while (after != nullptr && str_compare(after->name, item->name) < 0) after = list.next(after);
  if (after == nullptr) {
    list.push_back(item);
  } else {
    list.insert_before(after, item);
  }
}

// The element named `name`, or nullptr.
template <class T, ListNode T::*Link>
T* find_by_name(const List<T, Link>& list, const char* name) {
  for (T* item = list.front(); item != nullptr; item = list.next(item))
    if (str_compare(item->name, name) == 0) return item;
  return nullptr;
}

}  // namespace vm
