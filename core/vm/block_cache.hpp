// The block cache (spec §3 `cache_put` / `cache_get`; MINIX's
// vm_yield_block_get_block): a process yields a range of its memory to the
// VM under an id, and later asks for it back. The VM keeps the bytes as long
// as memory allows: blocks are the first thing pageout forgets, oldest first,
// so a cache as big as memory costs nothing a program would miss.
//
//   BlockCache ── lru: every block, least recently put first (pageout's order)
//   BlockCacheOwner (one per process) ── blocks: AVL tree by id
//   CacheBlock ── frames: the pages that are not all zero (State::kCache),
//                 by index in the block, ascending
//
// A get is a hit with exactly the bytes that were put, or a miss; never
// other bytes. The frames are the cache's alone: never mapped, never on the
// pageout queue, never written.
#pragma once

#include "lib/avl_tree.hpp"
#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "vm/page.hpp"
#include "vm/page_allocator.hpp"
#include "vm/slab.hpp"

namespace vm {

struct BlockCacheOwner;

// Locking: (b) BlockCache::lock_ while the block is in the cache; (c) set
// before it goes in; (t) its taker's alone once out (built, or taken by a
// get, a forget or an exit).
struct CacheBlock {
  u64 id = 0;                            // (c) the process's name for it
  u64 pages = 0;                         // (c) length in pages
  BlockCacheOwner* owner = nullptr;      // (b)
  AvlNode tree_node;                     // (b) in owner->blocks, by id
  ListNode lru_node;                     // (b) in BlockCache::lru_
  List<Page, &Page::queue_node> frames;  // (c, t) Invariant: ascending Page::index < pages
};

struct BlockIdKey {
  u64 operator()(const CacheBlock& b) const { return b.id; }
};

// A process's blocks (ids are per process). Guarded by the cache's lock.
struct BlockCacheOwner {
  AvlTree<CacheBlock, &CacheBlock::tree_node, BlockIdKey> blocks;
};

struct BlockCacheStats {
  u64 hits = 0;       // gets that found their block
  u64 misses = 0;     // gets that did not
  u64 forgotten = 0;  // blocks pageout (or a put without memory) let go of
  u64 blocks = 0;     // in the cache now
  u64 frames = 0;     // frames its blocks hold now
};

// Locking: lock_ is a leaf lock: nothing is taken under it (frames are
// freed after their block has left). Order: map lock → lock_.
class BlockCache {
 public:
  void init(PageAllocator& pages, Platform& platform);

  // A new, empty block of `pages` pages under `id`, not in the cache yet;
  // nullptr when no memory is left for its header.
  CacheBlock* create(u64 id, u64 pages);
  // Adds a frame holding the block's page `index` (indices ascending).
  void add_frame(CacheBlock* block, Page* page, u64 index);
  // Frees a block that is not in the cache, and its frames.
  void destroy(CacheBlock* block);

  // Puts `block` in the cache for `owner`, the newest; an older block under
  // the same id is replaced (and freed).
  void insert(BlockCacheOwner& owner, CacheBlock* block);
  // The length in pages of `owner`'s block `id`, 0 if it has none.
  u64 block_pages(BlockCacheOwner& owner, u64 id);
  // Takes `owner`'s block `id` out of the cache (a get: counted as a hit,
  // nullptr as a miss).
  CacheBlock* take(BlockCacheOwner& owner, u64 id);
  // A get that did not take a block.
  void note_miss();
  // Frees every block of `owner` (its process exits).
  void drop_owner(BlockCacheOwner& owner);
  // Pageout: forgets the oldest blocks until `target` frames are freed or
  // the cache is empty; returns the frames freed.
  u64 forget(u64 target);
  // A put that could not keep its block (no memory for it).
  void note_forgotten();

  BlockCacheStats stats() const;
  // The audit (everything stopped): blocks, frames and counts consistent;
  // `*cache_frames` is the number of frames the blocks hold.
  const char* check(u64* cache_frames) const;

 private:
  CacheBlock* take_oldest();
  void unlink(CacheBlock* block) REQUIRES(lock_);

  PageAllocator* pages_ = nullptr;  // (c)
  Platform* platform_ = nullptr;    // (c)
  TypedSlab<CacheBlock> slab_;      // locks itself
  mutable Mutex lock_{"block_cache"};
  List<CacheBlock, &CacheBlock::lru_node> lru_ GUARDED_BY(lock_);
  BlockCacheStats stats_ GUARDED_BY(lock_);
};

}  // namespace vm
