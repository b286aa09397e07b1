// The physical page allocator. It owns every frame of RAM: at boot it carves
// the Page array from the lowest frames (those become State::kBoot) and puts
// the rest on one free list. A reserved pool of `reserved_frames` is kept
// back from ordinary allocations so that the pageout path, which must
// allocate to free memory, can always make progress (XNU's
// vm_page_free_reserved, FreeBSD's VM_ALLOC_SYSTEM ladder).
#pragma once

#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "vm/page.hpp"

namespace vm {

class Platform;

enum class AllocClass : u8 {
  kNormal,    // fails when only the reserved pool is left
  kReserved,  // may dip into the reserved pool (pageout, page tables of pageout)
};

struct PageAllocatorStats {
  u64 total_frames = 0;  // frames of RAM
  u64 boot_frames = 0;   // taken at boot for the page array and the carve
  u64 free_frames = 0;
  u64 in_use = 0;  // total - boot - free
  u64 peak_in_use = 0;
  u64 allocs = 0;
  u64 frees = 0;
  u64 failed = 0;           // ordinary (kNormal) allocations refused
  u64 failed_reserved = 0;  // pageout's (kReserved) allocations refused
  u64 blocks = 0;           // 2 MiB blocks handed out (alloc_block)
  u64 blocks_failed = 0;    // alloc_block found no free aligned block
};

// Locking: (f) lock_, a leaf lock (Platform::leaf_lock); (c) set by init()
// at boot, before any other thread runs.
class PageAllocator {
 public:
  // Takes RAM [0, ram_bytes) (rounded down to whole frames). The platform's
  // physical window must be page-aligned, and RAM must hold the Page array
  // plus at least one frame; else panic. `reserved_frames` is clamped to
  // what is free. `carve_bytes` more are taken at boot after the page array
  // (tables the core sizes at boot: the compressor's), at carve().
  void init(Platform& platform, u64 ram_bytes, u64 reserved_frames, u64 carve_bytes = 0);
  u8* carve() const { return carve_; }

  // A free frame, returned in State::kAllocated with its other fields reset;
  // the caller sets its role (state). Its contents are not cleared. nullptr
  // when none is left for `cls`. Deterministic: the free list is LIFO over
  // an initial ascending order, so the same sequence of calls yields the
  // same frames (and a fresh allocator hands out the lowest frames first).
  Page* alloc(AllocClass cls = AllocClass::kNormal);
  // As alloc(), then zero-filled.
  Page* alloc_zeroed(AllocClass cls = AllocClass::kNormal);
  // A naturally aligned block of `kBlockFrames` free frames (2 MiB), each in
  // State::kAllocated as alloc() returns them; the first one is returned,
  // the others follow it in the page array. Only ordinary memory: it leaves
  // `reserved_frames` plus `keep_free` frames free, else nullptr (as when no
  // aligned block is wholly free). Never counted as a failed allocation: a
  // caller that gets no block takes single frames instead. Deterministic:
  // the lowest free block, frames past the described ones included.
  static constexpr u64 kBlockFrames = 512;
  Page* alloc_block(u64 keep_free = 0);
  // Any state but kFree and kBoot (else panic: double free / boot frame),
  // not mapped (map_count == 0, else panic), not on a list through
  // queue_node (else panic). Its state becomes kFree.
  void free(Page* page);

  paddr_t phys(const Page* page) const;  // physical address of a frame
  // Descriptor of a RAM frame, nullptr outside RAM or past the frames ever
  // handed out (no PTE, slab or table can name one of those).
  Page* page_of(paddr_t pa) const;
  // Descriptor of the frame a host/kernel pointer into RAM points into,
  // nullptr outside RAM (the inverse of data(), for pointers into frames).
  Page* page_containing(const void* p) const;
  u8* data(const Page* page) const;  // host/kernel view of the frame's bytes

  // Device frames (vm/device.hpp): physical ranges outside RAM that page
  // tables may name, though no Page describes them and nothing here ever
  // hands them out (FreeBSD's vm_phys_fictitious_reg_range). Registered at
  // boot; false (nothing registered) when the range is empty, unaligned,
  // wraps, overlaps RAM or a registered range, or the table is full.
  static constexpr u32 kMaxDeviceRanges = 16;
  bool register_device_range(paddr_t pa, u64 bytes);
  // Whether the frame at `pa` lies in a registered device range.
  bool device_frame(paddr_t pa) const;
  u64 frame_count() const { return frames_; }
  // Frames whose descriptor is built: [0, described_frames()). The rest
  // were never handed out (free); only their frame numbers are valid.
  u64 described_frames() const { return fresh_.load(); }
  Page* page_at(u64 pfn) const { return pages_ + pfn; }
  u64 reserved_frames() const { return reserved_; }
  Platform& platform() const { return *platform_; }

  const PageAllocatorStats& stats() const { return stats_; }

  // How many naturally aligned 2 MiB blocks are wholly free now (the
  // fragmentation measure of docs/large-pages.md). O(frames).
  u64 free_blocks() const;

  // Audit: frames [0, boot_frames) are kBoot and no other; the free list is
  // well linked and holds exactly the kFree frames below the frontier; the
  // stats agree with the counts. Returns nullptr or the name of the first
  // broken invariant. O(described frames).
  const char* check() const;

 private:
  Platform* platform_ = nullptr;  // (c)
  Page* pages_ = nullptr;         // (c) Invariant: pages_[pfn] describes frame pfn.
  u8* carve_ = nullptr;           // (c) the boot carve after the page array
  u64 frames_ = 0;                // (c)
  u64 reserved_ = 0;              // (c) frames kNormal must leave on the free list
  struct PhysRange {
    paddr_t start = 0;
    paddr_t end = 0;  // exclusive
  };
  // (c) Invariant: page-aligned, non-empty, disjoint from RAM and each other.
  PhysRange device_ranges_[kMaxDeviceRanges];
  u32 device_range_count_ = 0;  // (c)
  // (f) Invariant: the kFree frames are exactly those on free_list_ and
  // those at or past fresh_, whose descriptors are not built yet.
  List<Page, &Page::queue_node> free_list_ GUARDED_BY(lock_);
  // (f) Written under lock_, read without it (page_of): it only grows, and
  // a frame is named only after its allocation set it past the frame.
  Atomic<u64> fresh_;
  PageAllocatorStats stats_ GUARDED_BY(lock_);  // (f)
  // Whether frames [first, first + kBlockFrames) are all free.
  bool block_free(u64 first) const REQUIRES(lock_);
  // Takes the free frame `pfn` off the free list, or builds its descriptor
  // (the frames before it past the frontier become described free frames).
  Page* take(u64 pfn) REQUIRES(lock_);
  // Guards the free list and the stats against CPUs faulting in different
  // address spaces at once (the SMP stress mode); a leaf lock.
  mutable Mutex lock_{"page_allocator"};
};

}  // namespace vm
