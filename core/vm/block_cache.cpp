#include "vm/block_cache.hpp"

#include "locker.hpp"

namespace vm {

void BlockCache::init(PageAllocator& pages, Platform& platform) {
  pages_ = &pages;
  platform_ = &platform;
  slab_.init("cache_block", pages, platform);
}

CacheBlock* BlockCache::create(u64 id, u64 pages) {
  CacheBlock* block = slab_.create();
  if (block == nullptr) return nullptr;
  UseScope use(block);  // the owner's block until published
  block->id = id;
  block->pages = pages;
  return block;
}

void BlockCache::add_frame(CacheBlock* block, Page* page, u64 index) {
  page->state = Page::State::kCache;
  page->index = index;
  block->frames.push_back(page);
}

void BlockCache::destroy(CacheBlock* block) {
  while (Page* page = block->frames.pop_front()) {
    page->index = 0;
    pages_->free(page);
  }
  slab_.destroy(block);
}

void BlockCache::unlink(CacheBlock* block) {
  block->owner->blocks.remove(block);
  {
    UseScope use(block);
    block->owner = nullptr;
  }
  lru_.remove(block);
  --stats_.blocks;
  stats_.frames -= block->frames.size();
}

void BlockCache::insert(BlockCacheOwner& owner, CacheBlock* block) {
  CacheBlock* replaced = nullptr;
  {
    LeafLocker guard(*platform_, lock_);
    replaced = owner.blocks.find(block->id);
    if (replaced != nullptr) unlink(replaced);
    {
      UseScope use(block);
      block->owner = &owner;
    }
    owner.blocks.insert(block);
    lru_.push_back(block);
    ++stats_.blocks;
    stats_.frames += block->frames.size();
  }
  if (replaced != nullptr) destroy(replaced);
}

u64 BlockCache::block_pages(BlockCacheOwner& owner, u64 id) {
  LeafLocker guard(*platform_, lock_);
  const CacheBlock* block = owner.blocks.find(id);
  return block == nullptr ? 0 : block->pages;
}

CacheBlock* BlockCache::take(BlockCacheOwner& owner, u64 id) {
  LeafLocker guard(*platform_, lock_);
  CacheBlock* block = owner.blocks.find(id);
  if (block == nullptr) {
    ++stats_.misses;
    return nullptr;
  }
  unlink(block);
  ++stats_.hits;
  return block;
}

void BlockCache::note_miss() {
  LeafLocker guard(*platform_, lock_);
  ++stats_.misses;
}

void BlockCache::drop_owner(BlockCacheOwner& owner) {
  for (;;) {
    CacheBlock* block = nullptr;
    {
      LeafLocker guard(*platform_, lock_);
      block = owner.blocks.first();
      if (block == nullptr) return;
      unlink(block);
    }
    destroy(block);
  }
}

CacheBlock* BlockCache::take_oldest() {
  LeafLocker guard(*platform_, lock_);
  CacheBlock* block = lru_.front();
  if (block == nullptr) return nullptr;
  unlink(block);
  ++stats_.forgotten;
  return block;
}

u64 BlockCache::forget(u64 target) {
  u64 freed = 0;
  while (freed < target) {
    CacheBlock* block = take_oldest();
    if (block == nullptr) break;
    freed += block->frames.size();
    destroy(block);
  }
  return freed;
}

void BlockCache::note_forgotten() {
  LeafLocker guard(*platform_, lock_);
  ++stats_.forgotten;
}

BlockCacheStats BlockCache::stats() const {
  LeafLocker guard(*platform_, lock_);
  return stats_;
}

// Not analysed: the audit runs while every thread is stopped.
const char* BlockCache::check(u64* cache_frames) const NO_THREAD_SAFETY_ANALYSIS {
  u64 blocks = 0;
  u64 frames = 0;
  for (const CacheBlock* b = lru_.front(); b != nullptr; b = lru_.next(b)) {
    ++blocks;
    if (b->owner == nullptr || b->owner->blocks.find(b->id) != b)
      return "a cached block is not in its owner's tree";
    if (b->pages == 0) return "a cached block has no pages";
    u64 next_index = 0;
    for (const Page* p = b->frames.front(); p != nullptr; p = b->frames.next(p)) {
      if (p->state != Page::State::kCache) return "a cached block holds a frame not in state cache";
      if (p->index < next_index || p->index >= b->pages)
        return "a cached block's frames are out of order or past its end";
      next_index = p->index + 1;
      ++frames;
    }
  }
  if (blocks != stats_.blocks || frames != stats_.frames)
    return "the block cache's counts disagree with its blocks";
  *cache_frames = frames;
  return nullptr;
}

}  // namespace vm
