// The compressor (spec §8, `machine.compressor`): a tier between memory and
// swap. Pageout stores an anonymous page here when it compresses and there
// is room, and on swap otherwise; a fault brings it back (vm/swap_pager.hpp
// keeps, per object, which pages are compressed and which are on swap).
// Compressed pages live in a CompressedStore within the byte budget, its
// frames from the page allocator's reserved pool (the compressor is part of
// pageout); its slot array and frame table are carved at boot.
//
// When the store is full, new victims go to swap (Linux's zswap rejects a
// store the same way); moving the oldest compressed pages on to swap, as
// XNU does with whole segments, is not built yet (docs/pressure.md).
//
// Locking: lock_ is a leaf lock; it guards the store, the codec's scratch
// and the output buffer (one compression at a time).
#pragma once

#include "lib/mutex.hpp"
#include "lib/thread_annotations.hpp"
#include "lib/types.hpp"
#include "vm/compressor/compressed_store.hpp"
#include "vm/compressor/page_codec.hpp"

namespace vm {

class Vm;

class Compressor final : public FrameSource {
 public:
  // Bytes of boot memory its tables need for a budget of `budget_bytes`.
  static u64 table_bytes(u64 budget_bytes);

  // `budget_bytes` (a multiple of kPageSize; 0: no compressor) of RAM at
  // most for compressed pages; `tables`: table_bytes(budget_bytes) bytes,
  // 8-byte aligned, for as long as the compressor lives.
  void init(Vm& vm, u64 budget_bytes, u8* tables);
  bool configured() const { return budget_ != 0; }

  // Compresses the page at `page` and keeps it under *out; false, and
  // nothing kept, when the page does not compress (it saves less than an
  // eighth) or the store has no room.
  bool store(const u8* page, CompressedHandle* out);
  // Rebuilds the page `h` names into `page` (the handle stays valid).
  void load(CompressedHandle h, u8* page);
  void free(CompressedHandle h);

  // Audit: the store's own check.
  const char* check();

  // FrameSource: frames for packed pages, from the reserved pool.
  u8* alloc_frame() override;
  void free_frame(u8* frame) override;

 private:
  Vm* vm_ = nullptr;
  u64 budget_ = 0;  // (c)
  Mutex lock_{"compressor"};
  CompressedStore store_ GUARDED_BY(lock_);
  PageCodecScratch scratch_ GUARDED_BY(lock_);
  u8 out_[kPageSize] GUARDED_BY(lock_);
};

}  // namespace vm
