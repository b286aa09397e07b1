// The physical page allocator. It owns every frame of RAM: at boot it carves
// the Page array from the lowest frames (those become State::kBoot) and puts
// the rest on one free list. A reserved pool of `reserved_frames` is kept
// back from ordinary allocations so that the pageout path, which must
// allocate to free memory, can always make progress (XNU's
// vm_page_free_reserved, FreeBSD's VM_ALLOC_SYSTEM ladder).
//
// Free frames are kept per naturally aligned 2 MiB block, and a single
// frame comes from the partly used block with the fewest free frames: a
// whole free block is broken only when no partly used one is left, so
// whole blocks survive churn for alloc_block (the idea of Linux's
// pageblocks and of FreeBSD's vm_reserv; docs/large-pages.md).
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

// How single frames are chosen (docs/large-pages.md, "The allocator's blocks").
enum class FramePolicy : u8 {
  kPreferBroken,  // the partly used block with the fewest free frames (the default)
  kLifo,          // one LIFO list over all of RAM, blocks ignored (the allocator
                  // before blocks; kept as the fragmentation baseline of `vmsim bench`)
};

// The free frames of one naturally aligned 2 MiB block of RAM. Locking: the
// allocator's lock_.
struct FrameBlock {
  // Its described free frames, the most recently freed first (kPreferBroken;
  // empty under kLifo).
  List<Page, &Page::queue_node> free;
  // On PageAllocator::whole_ when all its frames are free (a block of 512
  // RAM frames only), on partial_[free_count] when some are, else on none.
  ListNode link;
  // Invariant: its kFree frames, described or not (past the frontier).
  u16 free_count = 0;
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
  // RAM is at most kMaxBlocks blocks (4 GiB, the trace format's limit), else panic.
  void init(Platform& platform, u64 ram_bytes, u64 reserved_frames, u64 carve_bytes = 0,
            FramePolicy policy = FramePolicy::kPreferBroken);
  u8* carve() const { return carve_; }

  // A free frame, returned in State::kAllocated with its other fields reset;
  // the caller sets its role (state). Its contents are not cleared. nullptr
  // when none is left for `cls`. O(1). Deterministic: the same sequence of
  // calls yields the same frames. From the partly used block with the fewest
  // free frames (its most recently freed frame, else its lowest never-used
  // one), else from the first whole block (the last one to become whole
  // again, else the lowest never used); so a fresh allocator hands out the
  // lowest frames first and a freed frame comes back first while its block
  // is the fullest partly used one.
  Page* alloc(AllocClass cls = AllocClass::kNormal);
  // As alloc(), then zero-filled. A frame never handed out before is not
  // cleared when the platform's RAM is zero at boot (Platform::ram_zero_at_boot).
  Page* alloc_zeroed(AllocClass cls = AllocClass::kNormal);
  // A naturally aligned block of `kBlockFrames` free frames (2 MiB), each in
  // State::kAllocated as alloc() returns them; the first one is returned,
  // the others follow it in the page array. Only ordinary memory: it leaves
  // `reserved_frames` plus `keep_free` frames free, else nullptr (as when no
  // aligned block is wholly free). Never counted as a failed allocation: a
  // caller that gets no block takes single frames instead. Deterministic:
  // the block that became whole last, else the lowest never-used one.
  // O(kBlockFrames).
  static constexpr u64 kBlockFrames = 512;
  static constexpr u64 kMaxBlocks = 2048;
  Page* alloc_block(u64 keep_free = 0);
  // As alloc_block(), then zero-filled (never-used frames as alloc_zeroed()).
  Page* alloc_block_zeroed(u64 keep_free = 0);
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
  // Whether register_device_range(pa, bytes) would succeed now.
  bool device_range_available(paddr_t pa, u64 bytes) const;
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
  // fragmentation measure of docs/large-pages.md). O(1).
  u64 free_blocks() const;

  // Audit: frames [0, boot_frames) are kBoot and no other; the free lists
  // are well linked and hold exactly the kFree frames below the frontier,
  // each on its block's list (kPreferBroken) or on the one list (kLifo);
  // every block's free count is right and it is on the list that count
  // says; the stats agree with the counts. Returns nullptr or the name of
  // the first broken invariant. O(described frames + blocks).
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
  u32 device_range_count_ = 0;                       // (c)
  FramePolicy policy_ = FramePolicy::kPreferBroken;  // (c)
  u64 block_count_ = 0;                              // (c) blocks RAM spans, the last maybe short
  bool ram_zero_ = false;  // (c) frames past the frontier read zero (Platform::ram_zero_at_boot)
  // (f) Invariant: the kFree frames are exactly those on the lists (the
  // blocks' or free_list_, by policy_) and those at or past fresh_, whose
  // descriptors are not built yet.
  List<Page, &Page::queue_node> free_list_ GUARDED_BY(lock_);  // kLifo only
  FrameBlock blocks_[kMaxBlocks] GUARDED_BY(lock_);            // blocks_[pfn / kBlockFrames]
  // (f) The blocks all of whose 512 frames are free: ascending at init,
  // then each one that becomes whole again at the front.
  List<FrameBlock, &FrameBlock::link> whole_ GUARDED_BY(lock_);
  // (f) partial_[n]: the blocks with n free frames, 0 < n < kBlockFrames
  // (a short block, the first one beside the boot frames or the last one,
  // is here even when all its frames are free: it can never be a 2 MiB
  // page). Bit n of partial_mask_ says partial_[n] is not empty.
  List<FrameBlock, &FrameBlock::link> partial_[kBlockFrames] GUARDED_BY(lock_);
  u64 partial_mask_[kBlockFrames / 64] GUARDED_BY(lock_) = {};
  // (f) Written under lock_, read without it (page_of): it only grows, and
  // a frame is named only after its allocation set it past the frame.
  Atomic<u64> fresh_;
  PageAllocatorStats stats_ GUARDED_BY(lock_);  // (f)
  // alloc() and alloc_block(), which also tell the frontier before they took
  // their frames: a frame at or past it was never handed out.
  Page* alloc_frame(AllocClass cls, u64* frontier);
  Page* alloc_aligned_block(u64 keep_free, u64* frontier);
  // Zero-fills `count` frames from `first` on, but those known to read zero
  // (at or past `frontier`, RAM zero at boot).
  void clear(Page* first, u64 count, u64 frontier);
  // The free frame alloc() takes next, by policy_ (some frame is free).
  u64 pick_frame() REQUIRES(lock_);
  // Takes the free frame `pfn` off its list, building its descriptor first
  // when it has none (the frames before it past the frontier become
  // described free frames).
  Page* take(u64 pfn) REQUIRES(lock_);
  // The list a described free frame `pfn` is on, by policy_.
  List<Page, &Page::queue_node>& free_list_of(u64 pfn) REQUIRES(lock_);
  // Block bookkeeping: off its list, then on the one its free count says.
  void block_unlink(FrameBlock& b) REQUIRES(lock_);
  void block_link(FrameBlock& b) REQUIRES(lock_);
  // The frames of RAM in block `b` that are not boot frames: [first, end).
  u64 block_first(u64 b) const REQUIRES(lock_);
  u64 block_end(u64 b) const;
  const char* check_blocks() const;
  // Guards the free list and the stats against CPUs faulting in different
  // address spaces at once (the SMP stress mode); a leaf lock.
  mutable Mutex lock_{"page_allocator", Mutex::Footprint::kUnordered};
};

}  // namespace vm
