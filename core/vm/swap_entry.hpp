// One page of an object that is on swap: which page, which slot
// (vm/swap_pager.hpp). Objects keep them in a SwapMap by page index.
#pragma once

#include "lib/avl_tree.hpp"
#include "lib/types.hpp"

namespace vm {

// Page `index` of its object is in swap slot `slot`.
struct SwapEntry {
  AvlNode node;
  u64 index = 0;
  u64 slot = 0;
};

struct SwapEntryKey {
  u64 operator()(const SwapEntry& e) const { return e.index; }
};

using SwapMap = AvlTree<SwapEntry, &SwapEntry::node, SwapEntryKey>;

}  // namespace vm
