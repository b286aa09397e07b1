// The physical page allocator: one LIFO free list over the frames left after
// the boot carve, with a reserved pool only AllocClass::kReserved may use.
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

void PageAllocator::init(Platform& platform, u64 ram_bytes, u64 reserved_frames, u64 carve_bytes) {
  platform_ = &platform;
  frames_ = ram_bytes >> kPageShift;
  const u64 array = page_round(frames_ * sizeof(Page));
  const u64 boot = (array + page_round(carve_bytes)) >> kPageShift;
  if ((reinterpret_cast<uintptr_t>(platform.phys(0)) & kPageMask) != 0)
    platform.panic("page_allocator: physical window not page-aligned");
  if (boot >= frames_)
    platform.panic("page_allocator: RAM too small for the page array and the boot tables");

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
}

Page* PageAllocator::alloc(AllocClass cls) {
  LeafLocker guard(*platform_, lock_);
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
  // The freed frames first (LIFO), then the never-used ones, ascending: the
  // order of one list that started ascending and took frees at its front.
  Page* page = free_list_.pop_front();
  if (page == nullptr) {
    page = new (&pages_[fresh_.load()]) Page();
    fresh_.add(1);
  }
  page->state = Page::State::kAllocated;
  --stats_.free_frames;
  ++stats_.in_use;
  ++stats_.allocs;
  if (stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  return page;
}

bool PageAllocator::block_free(u64 first) const {
  const u64 fresh = fresh_.load();
  for (u64 pfn = first; pfn < first + kBlockFrames && pfn < fresh; ++pfn)
    if (pages_[pfn].state != Page::State::kFree) return false;
  return true;
}

Page* PageAllocator::take(u64 pfn) {
  while (fresh_.load() <= pfn) {
    // Described now and free: they join the list behind the freed frames,
    // ascending, in the order alloc() would have reached them.
    Page* p = new (&pages_[fresh_.load()]) Page();
    p->state = Page::State::kFree;
    free_list_.push_back(p);
    fresh_.add(1);
  }
  Page* page = &pages_[pfn];
  free_list_.remove(page);
  new (page) Page();
  page->state = Page::State::kAllocated;
  return page;
}

Page* PageAllocator::alloc_block(u64 keep_free) {
  LeafLocker guard(*platform_, lock_);
  if (stats_.free_frames < reserved_ + keep_free + kBlockFrames) {
    ++stats_.blocks_failed;
    return nullptr;
  }
  // First fit from the bottom: small frames come from the freed ones first
  // and then from the bottom of the never-used ones, so the blocks above the
  // frontier stay whole longest (MINIX's "chew off memory from the same side").
  u64 first = (stats_.boot_frames + kBlockFrames - 1) & ~(kBlockFrames - 1);
  for (; first + kBlockFrames <= frames_; first += kBlockFrames)
    if (block_free(first)) break;
  if (first + kBlockFrames > frames_) {
    ++stats_.blocks_failed;
    return nullptr;
  }
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
  u64 n = 0;
  u64 first = (stats_.boot_frames + kBlockFrames - 1) & ~(kBlockFrames - 1);
  for (; first + kBlockFrames <= frames_; first += kBlockFrames) n += block_free(first) ? 1 : 0;
  return n;
}

Page* PageAllocator::alloc_zeroed(AllocClass cls) {
  Page* page = alloc(cls);
  if (page != nullptr) mem_set(data(page), 0, kPageSize);
  return page;
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
    // LIFO: the most recently freed frame is reused first (deterministic, and
    // a stale user of it meets new contents soon).
    free_list_.push_front(page);
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

bool PageAllocator::register_device_range(paddr_t pa, u64 bytes) {
  if (bytes == 0 || !page_aligned(pa) || !page_aligned(bytes) || pa + bytes < pa) return false;
  if (pa < (frames_ << kPageShift) || device_range_count_ == kMaxDeviceRanges) return false;
  for (u32 i = 0; i < device_range_count_; ++i) {
    const PhysRange& r = device_ranges_[i];
    if (pa < r.end && r.start < pa + bytes) return false;
  }
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
  // Every listed page is a kFree frame of this array; with the counts equal
  // (and list nodes distinct), the list is exactly the kFree frames.
  for (const Page* p = free_list_.front(); p != nullptr; p = free_list_.next(p)) {
    if (p < pages_ || p >= pages_ + frames_) return "page_allocator.free_list_foreign";
    if (p->state != Page::State::kFree) return "page_allocator.free_list_state";
  }
  if (free_count != free_list_.size()) return "page_allocator.free_count";
  free_count += frames_ - fresh;  // never handed out
  if (stats_.free_frames != free_count) return "page_allocator.stats_free";
  if (stats_.total_frames != frames_ || stats_.boot_frames != boot_count ||
      stats_.in_use != frames_ - boot_count - free_count)
    return "page_allocator.stats_in_use";
  if (reserved_ > free_count + stats_.in_use) return "page_allocator.reserved";
  return nullptr;
}

}  // namespace vm
