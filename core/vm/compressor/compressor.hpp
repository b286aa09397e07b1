// The compressor (spec §8, `machine.compressor`): a tier between memory and
// swap. Pageout stores an anonymous page here when it compresses and there
// is room, and on swap otherwise; a fault brings it back (vm/swap_pager.hpp
// keeps, per object, which pages are compressed and which are on swap).
// Compressed pages live in a CompressedStore within the byte budget, its
// frames from the page allocator's reserved pool (the compressor is part of
// pageout); its slot array and frame table are carved at boot.
//
// When the store is full, its oldest pages go on to swap to make room (XNU
// swaps out its oldest segments, zswap writes back from its LRU): the
// compressor keeps the entries it holds in age order, each with the object
// whose map holds it (vm/swap_pager.cpp: writeback).
//
// Locking: lock_ is a leaf lock; it guards the store, the codec's scratch,
// the output buffer (one compression at a time), the age list and every
// tracked entry's `age` and `owner`.
#pragma once

#include "lib/mutex.hpp"
#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"
#include "vm/compressor/compressed_store.hpp"
#include "vm/compressor/page_codec.hpp"
#include "vm/swap_entry.hpp"

namespace vm {

class Vm;
class VmObject;

enum class CompressResult : u8 {
  kStored,
  kIncompressible,  // saves less than an eighth of a page
  kNoRoom,          // the budget's bytes or the slots are used up
};

class Compressor final : public FrameSource {
 public:
  // Bytes of boot memory its tables need for a budget of `budget_bytes`.
  static u64 table_bytes(u64 budget_bytes);

  // `budget_bytes` (a multiple of kPageSize; 0: no compressor) of RAM at
  // most for compressed pages; `tables`: table_bytes(budget_bytes) bytes,
  // 8-byte aligned, for as long as the compressor lives.
  void init(Vm& vm, u64 budget_bytes, u8* tables);
  bool configured() const { return budget_ != 0; }

  // Compresses the page at `page` and keeps it under entry->compressed;
  // nothing is kept unless kStored.
  CompressResult store(const u8* page, SwapEntry* entry);
  // Rebuilds `entry`'s page into `page` (it stays stored).
  void load(const SwapEntry* entry, u8* page);
  // Forgets `entry`'s page (and its place in the age order).
  void free(SwapEntry* entry);
  // Writes `entry`'s page to swap slot `slot` and forgets it here.
  void move_to_swap(SwapEntry* entry, u64 slot);

  // Age order. `entry` (stored) was put in `owner`'s map: it is the
  // youngest. untrack: taken out of the map again (swap-in). set_owner:
  // moved to another object's map (collapse). Under the map's object lock.
  void track(SwapEntry* entry, VmObject* owner);
  void untrack(SwapEntry* entry);
  void set_owner(SwapEntry* entry, VmObject* owner);
  // The oldest tracked entry whose owner's lock could be had (trylock: the
  // caller holds no object lock), out of the age order, its owner returned
  // locked; nullptr when there is none.
  SwapEntry* take_oldest(VmObject** owner);

  // Bytes of frames the store holds now.
  u64 held_bytes();
  // Whether a store could succeed without moving pages out first: a free
  // slot, and a frame of the budget still to take or a few free bytes in
  // the held ones. Pageout leaves anonymous pages mapped when neither the
  // compressor nor swap can take them.
  bool has_room();

  // Audit: the store's own check.
  const char* check();

  // FrameSource: frames for packed pages, from the reserved pool.
  u8* alloc_frame() override;
  void free_frame(u8* frame) override;

 private:
  void decode(const SwapEntry* entry, u8* page) REQUIRES(lock_);
  void forget(SwapEntry* entry) REQUIRES(lock_);
  // Out of the age order, no owner (the page stays stored).
  void unlink(SwapEntry* entry) REQUIRES(lock_);

  Vm* vm_ = nullptr;
  u64 budget_ = 0;  // (c)
  Mutex lock_{"compressor"};
  CompressedStore store_ GUARDED_BY(lock_);
  PageCodecScratch scratch_ GUARDED_BY(lock_);
  u8 out_[kPageSize] GUARDED_BY(lock_);
  List<SwapEntry, &SwapEntry::age> by_age_ GUARDED_BY(lock_);  // oldest first
};

}  // namespace vm
