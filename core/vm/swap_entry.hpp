// One page of an object that left memory for swap or the compressor: which
// page, and where it is (vm/swap_pager.hpp). Objects keep them in a SwapMap
// by page index.
#pragma once

#include "lib/avl_tree.hpp"
#include "lib/list.hpp"
#include "lib/types.hpp"
#include "lib/write_guard.hpp"
#include "vm/compressor/compressed_store.hpp"

namespace vm {

class VmObject;

inline constexpr u64 kNoSwapSlot = ~u64{0};

// Page `index` of its object is in swap slot `slot`, or in the compressor
// under `compressed`. Invariant: exactly one of the two once the page is
// out (a reserved entry may hold a slot the compressor then made needless).
struct SwapEntry {
  AvlNode node;
  u64 index = 0;
  u64 slot = kNoSwapSlot;
  CompressedHandle compressed;
  // (compressor lock) While compressed and in its object's map: its place
  // in the compressor's age order, and that object (vm/compressor/compressor.hpp).
  ListNode age;
  VmObject* owner = nullptr;
};

// A swap entry is a slab object: its owner's lock guards it from outside,
// so each write says USE() (vm/slab_sanity.hpp).
inline void set_index(SwapEntry* e, u64 index) {
  UseScope use(e);
  e->index = index;
}
inline void set_slot(SwapEntry* e, u64 slot) {
  UseScope use(e);
  e->slot = slot;
}

struct SwapEntryKey {
  u64 operator()(const SwapEntry& e) const { return e.index; }
};

using SwapMap = AvlTree<SwapEntry, &SwapEntry::node, SwapEntryKey>;

}  // namespace vm
