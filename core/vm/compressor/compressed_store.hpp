// The compressor's store: compressed pages packed several to a frame, within
// a budget of whole frames (`machine.compressor` bytes).
//
// Layout. A frame holds compressed pages back to back from offset 0 up to
// its `top`; a page never spans frames. New pages go at the top of one open
// frame; when it has no room, a new frame becomes the open one. Freeing a
// page leaves a hole (dead bytes) that only compaction reclaims, except that
// a frame whose last page is freed goes back to the frame source at once.
// Single-value pages take no bytes at all: the value lives in the slot.
//
// Slots and handles. Every stored page has a slot (caller-supplied array);
// a handle names the slot, not the bytes, so compaction can move the bytes
// and every handle stays valid (XNU's c_slot indirection; zsmalloc's
// handles). A frame lists its slots in offset order.
//
// Compaction slides every stored page down, frame by frame in index order,
// to the lowest free byte (a sliding compactor over the frame sequence): the
// holes close up, the pages keep their order, and the frames left empty at
// the end go back to the source. It runs when a free() leaves at least a
// quarter of the held bytes and two frames' worth free (XNU compacts a
// segment at a quarter free), and when store() finds no frame to be had but
// holes would make room. Its cost is the live bytes it moves, at most
// about four times the bytes freed since the last one.
//
// Pointers returned by view() are valid until the next store(), free() or
// compact(): those may move bytes. Not thread-safe: the owner serializes
// (the compressor pager's lock).
//
// Deterministic: the same calls give the same layout, handles and frames
// asked for (lowest free slot and frame entry first, LIFO slot reuse).
#pragma once

#include "lib/types.hpp"
#include "vm/compressor/frame_source.hpp"

namespace vm {

class Platform;

// Names one stored page; id 0 names none.
struct CompressedHandle {
  u32 id = 0;
  bool valid() const { return id != 0; }
};

inline constexpr u32 kNoSlot = ~u32{0};

// One stored page (the caller provides the array; see init()).
struct StoredPage {
  enum class Kind : u8 { kFree, kSingleValue, kPacked };
  Kind kind = Kind::kFree;
  u16 offset = 0;       // kPacked: first byte in its frame
  u16 length = 0;       // kPacked: bytes, 1..kPageSize (a page of kPageSize fits exactly)
  u32 frame = kNoSlot;  // kPacked: index into the frame table; kFree: next free slot
  u32 prev = kNoSlot;   // kPacked: neighbours in the frame's list, by offset
  u32 next = kNoSlot;
  u64 value = 0;  // kSingleValue: the repeated word
};

// One entry of the frame table (the caller provides the array).
struct PoolFrame {
  u8* data = nullptr;   // nullptr: no frame held in this entry
  u32 first = kNoSlot;  // its pages, by offset
  u32 last = kNoSlot;
  u32 top = 0;         // bytes [0, top) are pages or holes; [top, kPageSize) never used
  u32 live_bytes = 0;  // Invariant: sum of its pages' lengths.
  u32 live_pages = 0;  // Invariant: length of its list.
};

struct CompressedStoreStats {
  u64 frames = 0;  // frames held now (frames * kPageSize <= budget)
  u64 peak_frames = 0;
  u64 live_bytes = 0;  // bytes of packed pages
  u64 packed_pages = 0;
  u64 single_value_pages = 0;
  u64 compactions = 0;
  u64 bytes_moved = 0;  // by compaction
  u64 frames_released = 0;
};

enum class StoreStatus : u8 {
  kOk,
  kNoRoom,     // the budget is used up and compaction cannot make room
  kNoFrame,    // the frame source had no frame
  kNoSlot,     // every slot is in use
  kBadLength,  // 0 or more than kPageSize bytes
};

// A stored page as the decompressor needs it.
struct StoredView {
  bool single_value = false;
  u64 value = 0;              // single_value
  const u8* bytes = nullptr;  // else: `length` compressed bytes
  u32 length = 0;
};

class CompressedStore {
 public:
  // Frame-table entries worth having for `budget_bytes` (one per whole frame).
  static constexpr u64 frames_for(u64 budget_bytes) { return budget_bytes / kPageSize; }

  // The store uses `slots` (slot_count entries) and `frames` (frame_count
  // entries; entries beyond frames_for(budget_bytes) are never used), which
  // the caller keeps alive; misuse (a bad or freed handle) panics through
  // `platform`.
  void init(Platform& platform, FrameSource& source, u64 budget_bytes, StoredPage* slots,
            u32 slot_count, PoolFrame* frames, u32 frame_count);

  // Copies `length` compressed bytes into the store.
  StoreStatus store(const u8* bytes, u32 length, CompressedHandle* out);
  // A single-value page: no bytes, only a slot.
  StoreStatus store_single_value(u64 value, CompressedHandle* out);

  StoredView view(CompressedHandle h) const;
  void free(CompressedHandle h);

  // Closes every hole and gives back the frames left empty.
  void compact();
  // As compact(), and gives back the open frame too if it is empty (an empty
  // store then holds no frame).
  void drain();

  const CompressedStoreStats& stats() const { return stats_; }
  u64 budget_bytes() const { return budget_; }
  u64 held_bytes() const { return stats_.frames * kPageSize; }
  // Slots no page uses now.
  u32 free_slots() const {
    return slot_count_ - static_cast<u32>(stats_.packed_pages + stats_.single_value_pages);
  }

  // Audit: every held frame lists its pages in offset order, without
  // overlap, below its top; unheld entries are empty; every slot is free,
  // single-value or listed in exactly one frame; the free-slot list holds
  // exactly the free slots; the stats agree with all of it and the budget
  // holds. Returns nullptr or the name of the first broken invariant.
  // O(slots + frames).
  const char* check() const;

 private:
  StoredPage* slot_of(CompressedHandle h, const char* what) const;
  u32 take_slot();
  void release_slot(u32 slot);
  u32 take_frame(StoreStatus* why);  // a new empty frame's index, or kNoSlot and why not
  void release_frame(u32 frame);
  void append(u32 frame, u32 slot);
  void unlink(u32 frame, u32 slot);
  bool compaction_due() const;

  Platform* platform_ = nullptr;
  FrameSource* source_ = nullptr;
  u64 budget_ = 0;
  StoredPage* slots_ = nullptr;
  u32 slot_count_ = 0;
  u32 free_slot_ = kNoSlot;  // Invariant: a list, through `frame`, of exactly the kFree slots.
  PoolFrame* frames_ = nullptr;
  u32 frame_limit_ = 0;  // entries in use: min(frame_count, frames_for(budget))
  u32 open_ = kNoSlot;   // the frame new pages go into, or none
  CompressedStoreStats stats_;
};

}  // namespace vm
