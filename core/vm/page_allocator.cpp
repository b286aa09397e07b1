// The physical page allocator: free frames kept per 2 MiB block, single
// frames taken from the fullest partly used block, with a reserved pool only
// AllocClass::kReserved may use.
#include "vm/page_allocator.hpp"

#include <new>

#include "lib/format.hpp"
#include "lib/mem.hpp"
#include "locker.hpp"
#include "platform.hpp"

namespace vm {
namespace {

[[noreturn]] void panic_frame(Platform& platform, const char* what, paddr_t pa) {
  FixedString<96> msg;
  msg << "page_allocator: " << what << " " << Hex{pa};
  platform.panic(msg.c_str());
  __builtin_trap();  // panic() does not return; GCC cannot see that through a virtual call
}

}  // namespace

void PageAllocator::init(Platform& platform, u64 ram_bytes, u64 reserved_frames, u64 carve_bytes,
                         FramePolicy policy) {
  platform_ = &platform;
  policy_ = policy;
  frames_ = ram_bytes >> kPageShift;
  block_count_ = (frames_ + kBlockFrames - 1) / kBlockFrames;
  if (block_count_ > kMaxBlocks) platform.panic("page_allocator: RAM larger than 4 GiB");
  const u64 array = page_round(frames_ * sizeof(Page));
  const u64 boot = (array + page_round(carve_bytes)) >> kPageShift;
  if ((reinterpret_cast<uintptr_t>(platform.phys(0)) & kPageMask) != 0)
    platform.panic("page_allocator: physical window not page-aligned");
  if (boot >= frames_)
    platform.panic("page_allocator: RAM too small for the page array and the boot tables");

  ram_zero_ = platform.ram_zero_at_boot();
  pages_ = reinterpret_cast<Page*>(platform.phys(0));
  carve_ = carve_bytes != 0 ? static_cast<u8*>(platform.phys(array)) : nullptr;
  for (u64 pfn = 0; pfn < boot; ++pfn) new (&pages_[pfn]) Page();  // State::kBoot
  LeafLocker guard(platform, lock_);
  // The other descriptors are built at their frame's first allocation: a
  // run that uses a few frames of a large RAM touches a few descriptors.
  fresh_.store(boot);

  stats_ = PageAllocatorStats{};
  stats_.total_frames = frames_;
  stats_.boot_frames = boot;
  stats_.free_frames = frames_ - boot;
  reserved_ = reserved_frames < stats_.free_frames ? reserved_frames : stats_.free_frames;
  for (u64 b = 0; b < block_count_; ++b) {
    FrameBlock& block = blocks_[b];
    const u64 first = block_first(b);
    block.free_count = static_cast<u16>(block_end(b) > first ? block_end(b) - first : 0);
    if (block.free_count == kBlockFrames) {
      whole_.push_back(&block);  // ascending: the lowest is broken first
    } else {
      block_link(block);
    }
  }
}

u64 PageAllocator::block_first(u64 b) const {
  const u64 first = b * kBlockFrames;
  return first > stats_.boot_frames ? first : stats_.boot_frames;
}

u64 PageAllocator::block_end(u64 b) const {
  const u64 end = (b + 1) * kBlockFrames;
  return end < frames_ ? end : frames_;
}

void PageAllocator::block_unlink(FrameBlock& b) {
  if (b.free_count == kBlockFrames) {
    whole_.remove(&b);
  } else if (b.free_count != 0) {
    partial_[b.free_count].remove(&b);
    if (partial_[b.free_count].empty())
      partial_mask_[b.free_count / 64] &= ~(u64{1} << (b.free_count % 64));
  }
}

void PageAllocator::block_link(FrameBlock& b) {
  if (b.free_count == kBlockFrames) {
    whole_.push_front(&b);
  } else if (b.free_count != 0) {
    partial_[b.free_count].push_front(&b);
    partial_mask_[b.free_count / 64] |= u64{1} << (b.free_count % 64);
  }
}

List<Page, &Page::queue_node>& PageAllocator::free_list_of(u64 pfn) {
  return policy_ == FramePolicy::kLifo ? free_list_ : blocks_[pfn / kBlockFrames].free;
}

u64 PageAllocator::pick_frame() {
  if (policy_ == FramePolicy::kLifo) {
    // The freed frames first (LIFO), then the never-used ones, ascending.
    const Page* page = free_list_.front();
    return page != nullptr ? static_cast<u64>(page - pages_) : fresh_.load();
  }
  // The fullest partly used block (the lowest bit of the mask), else the
  // first whole one: a whole block is broken only when nothing else is free.
  FrameBlock* block = nullptr;
  for (u64 w = 0; w < kBlockFrames / 64 && block == nullptr; ++w)
    if (partial_mask_[w] != 0) block = partial_[w * 64 + __builtin_ctzll(partial_mask_[w])].front();
  if (block == nullptr) block = whole_.front();
  const u64 b = static_cast<u64>(block - blocks_);
  if (const Page* page = block->free.front()) return static_cast<u64>(page - pages_);
  // No described free frame: the block's free frames are past the frontier.
  const u64 fresh = fresh_.load();
  return fresh > block_first(b) ? fresh : block_first(b);
}

Page* PageAllocator::alloc(AllocClass cls) {
  u64 frontier = 0;
  return alloc_frame(cls, &frontier);
}

Page* PageAllocator::alloc_zeroed(AllocClass cls) {
  u64 frontier = 0;
  Page* page = alloc_frame(cls, &frontier);
  if (page != nullptr) clear(page, 1, frontier);
  return page;
}

Page* PageAllocator::alloc_frame(AllocClass cls, u64* frontier) {
  LeafLocker guard(*platform_, lock_);
  *frontier = fresh_.load();
  const u64 floor = cls == AllocClass::kReserved ? 0 : reserved_;
  if (stats_.free_frames <= floor) {
    // Pageout's own refusals are its business: only ordinary allocations
    // count as memory a caller could not get (the engine's out-of-memory test).
    if (cls == AllocClass::kNormal) {
      ++stats_.failed;
    } else {
      ++stats_.failed_reserved;
    }
    return nullptr;
  }
  Page* page = take(pick_frame());
  --stats_.free_frames;
  ++stats_.in_use;
  ++stats_.allocs;
  if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  return page;
}

Page* PageAllocator::take(u64 pfn) {
  while (fresh_.load() <= pfn) {
    // Described now and free: they join their list behind the freed frames,
    // ascending, in the order the frontier would have reached them.
    const u64 next = fresh_.load();
    Page* p = new (&pages_[next]) Page();
    p->state = Page::State::kFree;
    free_list_of(next).push_back(p);
    fresh_.add(1);
  }
  Page* page = &pages_[pfn];
  free_list_of(pfn).remove(page);
  new (page) Page();
  page->state = Page::State::kAllocated;
  FrameBlock& block = blocks_[pfn / kBlockFrames];
  block_unlink(block);
  --block.free_count;
  block_link(block);
  return page;
}

Page* PageAllocator::alloc_block(u64 keep_free) {
  u64 frontier = 0;
  return alloc_aligned_block(keep_free, &frontier);
}

Page* PageAllocator::alloc_block_zeroed(u64 keep_free) {
  u64 frontier = 0;
  Page* head = alloc_aligned_block(keep_free, &frontier);
  if (head != nullptr) clear(head, kBlockFrames, frontier);
  return head;
}

Page* PageAllocator::alloc_aligned_block(u64 keep_free, u64* frontier) {
  LeafLocker guard(*platform_, lock_);
  *frontier = fresh_.load();
  if (stats_.free_frames < reserved_ + keep_free + kBlockFrames) {
    ++stats_.blocks_failed;
    return nullptr;
  }
  // Small frames break a whole block only when no partly used one has a
  // free frame, so this is the block that became whole last or the lowest
  // never used (MINIX's "chew off memory from the same side").
  FrameBlock* block = whole_.front();
  if (block == nullptr) {
    ++stats_.blocks_failed;
    return nullptr;
  }
  const u64 first = static_cast<u64>(block - blocks_) * kBlockFrames;
  for (u64 pfn = first; pfn < first + kBlockFrames; ++pfn) take(pfn);
  stats_.free_frames -= kBlockFrames;
  stats_.in_use += kBlockFrames;
  stats_.allocs += kBlockFrames;
  ++stats_.blocks;
  if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  return &pages_[first];
}

u64 PageAllocator::free_blocks() const {
  LeafLocker guard(*platform_, lock_);
  return whole_.size();
}

// A frame past the frontier was never handed out: nothing wrote it since
// boot, so it reads zero if RAM did. Skipping its clear spares the work and,
// in the simulator, the host page behind it.
void PageAllocator::clear(Page* first, u64 count, u64 frontier) {
  // Frames below the frontier may have been used; the run is contiguous.
  const u64 pfn = static_cast<u64>(first - pages_);
  const u64 below_frontier = frontier > pfn ? frontier - pfn : 0;
  const u64 used = !ram_zero_ || below_frontier > count ? count : below_frontier;
  if (used != 0) mem_set(data(first), 0, used << kPageShift);
}

void PageAllocator::free(Page* page) {
  if (page < pages_ || page >= pages_ + fresh_.load())
    platform_->panic("page_allocator: free of a pointer that is not a frame descriptor");
  const paddr_t pa = phys(page);
  if (page->state == Page::State::kFree) panic_frame(*platform_, "double free of frame", pa);
  if (page->state == Page::State::kBoot) panic_frame(*platform_, "free of boot frame", pa);
  if (page->map_count.load() != 0) panic_frame(*platform_, "free of mapped frame", pa);
  if (page->queue_node.linked()) panic_frame(*platform_, "free of listed frame", pa);

  new (page) Page();  // forget the old role: owner, index, counts, links
  page->state = Page::State::kFree;
  {
    LeafLocker guard(*platform_, lock_);
    // LIFO in its block: the most recently freed frame of the block is
    // reused first (deterministic, and a stale user meets new contents soon).
    const u64 pfn = static_cast<u64>(page - pages_);
    free_list_of(pfn).push_front(page);
    FrameBlock& block = blocks_[pfn / kBlockFrames];
    block_unlink(block);
    ++block.free_count;
    block_link(block);
    ++stats_.free_frames;
    --stats_.in_use;
    ++stats_.frees;
  }
  platform_->frame_freed(pa);
}

paddr_t PageAllocator::phys(const Page* page) const {
  return static_cast<paddr_t>(page - pages_) << kPageShift;
}

Page* PageAllocator::page_of(paddr_t pa) const {
  const u64 pfn = pa >> kPageShift;
  return pfn < fresh_.load() ? pages_ + pfn : nullptr;
}

bool PageAllocator::device_range_available(paddr_t pa, u64 bytes) const {
  if (bytes == 0 || !page_aligned(pa) || !page_aligned(bytes) || pa + bytes < pa) return false;
  if (pa < (frames_ << kPageShift) || device_range_count_ == kMaxDeviceRanges) return false;
  for (u32 i = 0; i < device_range_count_; ++i) {
    const PhysRange& r = device_ranges_[i];
    if (pa < r.end && r.start < pa + bytes) return false;
  }
  return true;
}

bool PageAllocator::register_device_range(paddr_t pa, u64 bytes) {
  if (!device_range_available(pa, bytes)) return false;
  device_ranges_[device_range_count_++] = PhysRange{pa, pa + bytes};
  return true;
}

bool PageAllocator::device_frame(paddr_t pa) const {
  for (u32 i = 0; i < device_range_count_; ++i)
    if (pa >= device_ranges_[i].start && pa < device_ranges_[i].end) return true;
  return false;
}

Page* PageAllocator::page_containing(const void* p) const {
  const uintptr_t base = reinterpret_cast<uintptr_t>(platform_->phys(0));
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  if (addr < base) return nullptr;
  return page_of(addr - base);
}

// The bytes of a frame are shared with every CPU that maps it, under no
// lock: each use is reported (Platform::touched), named by the descriptor.
u8* PageAllocator::data(const Page* page) const {
  platform_->touched(page);
  return platform_->phys(phys(page));
}

// Not analysed: an audit, run while no thread runs core code.
const char* PageAllocator::check() const NO_THREAD_SAFETY_ANALYSIS {
  if (const char* err = free_list_.check()) return err;
  const u64 fresh = fresh_.load();
  if (fresh < stats_.boot_frames || fresh > frames_) return "page_allocator.fresh";
  u64 free_count = 0;
  u64 boot_count = 0;
  for (u64 pfn = 0; pfn < fresh; ++pfn) {
    const Page& p = pages_[pfn];
    if ((p.state == Page::State::kBoot) != (pfn < stats_.boot_frames)) return "page_allocator.boot";
    if (p.state == Page::State::kBoot) ++boot_count;
    if (p.state == Page::State::kFree) {
      if (!p.queue_node.linked()) return "page_allocator.free_unlisted";
      ++free_count;
    }
  }
  // Every listed page is a kFree frame of this array, on its block's list
  // (or on free_list_ under kLifo); with the counts equal (and list nodes
  // distinct), the lists are exactly the kFree frames.
  u64 listed = free_list_.size();
  for (const Page* p = free_list_.front(); p != nullptr; p = free_list_.next(p)) {
    if (p < pages_ || p >= pages_ + frames_) return "page_allocator.free_list_foreign";
    if (p->state != Page::State::kFree) return "page_allocator.free_list_state";
  }
  for (u64 b = 0; b < block_count_; ++b) {
    const FrameBlock& block = blocks_[b];
    if (const char* err = block.free.check()) return err;
    if (policy_ == FramePolicy::kLifo && !block.free.empty()) return "page_allocator.block_list";
    for (const Page* p = block.free.front(); p != nullptr; p = block.free.next(p)) {
      if (p < pages_ + b * kBlockFrames || p >= pages_ + block_end(b))
        return "page_allocator.free_list_foreign";
      if (p->state != Page::State::kFree) return "page_allocator.free_list_state";
    }
    listed += block.free.size();
  }
  if (free_count != listed) return "page_allocator.free_count";
  if (const char* err = check_blocks()) return err;
  free_count += frames_ - fresh;  // never handed out
  if (stats_.free_frames != free_count) return "page_allocator.stats_free";
  if (stats_.total_frames != frames_ || stats_.boot_frames != boot_count ||
      stats_.in_use != frames_ - boot_count - free_count)
    return "page_allocator.stats_in_use";
  if (reserved_ > free_count + stats_.in_use) return "page_allocator.reserved";
  return nullptr;
}

// Every block's free count against its frames, and the list it is on.
const char* PageAllocator::check_blocks() const NO_THREAD_SAFETY_ANALYSIS {
  const u64 fresh = fresh_.load();
  u64 on_lists = 0;
  for (u64 b = 0; b < block_count_; ++b) {
    const FrameBlock& block = blocks_[b];
    // Frames past the frontier are free without a look: O(described frames).
    const u64 first = block_first(b);
    const u64 end = block_end(b);
    const u64 undescribed = first > fresh ? first : fresh;  // [undescribed, end) all free
    u64 free = end > undescribed ? end - undescribed : 0;
    for (u64 pfn = first; pfn < end && pfn < fresh; ++pfn)
      free += pages_[pfn].state == Page::State::kFree ? 1 : 0;
    if (block.free_count != free) return "page_allocator.block_count";
    if (block.link.linked() != (free != 0)) return "page_allocator.block_unlisted";
    on_lists += free != 0 ? 1 : 0;
  }
  if (const char* err = whole_.check()) return err;
  u64 listed = whole_.size();
  for (const FrameBlock* b : whole_)
    if (b->free_count != kBlockFrames) return "page_allocator.block_whole";
  for (u64 n = 1; n < kBlockFrames; ++n) {
    if (const char* err = partial_[n].check()) return err;
    if (partial_[n].empty() == (((partial_mask_[n / 64] >> (n % 64)) & 1) != 0))
      return "page_allocator.block_mask";
    for (const FrameBlock* b : partial_[n])
      if (b->free_count != n) return "page_allocator.block_partial";
    listed += partial_[n].size();
  }
  return listed == on_lists ? nullptr : "page_allocator.block_lists";
}

}  // namespace vm
