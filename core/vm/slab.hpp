// The slab allocator for the core's fixed-size kernel objects (memory
// objects, regions, address spaces, processes), after Bonwick's slabs and
// FreeBSD UMA with INVARIANTS, with MINIX-style sanity checks:
//
//  - Each cache takes whole frames from the PageAllocator (State::kSlab).
//    A frame starts with its SlabPage header (Page::slab points at it),
//    followed by `capacity` objects of `stride` bytes.
//  - Which objects are free is a bitmap in the header, not a list threaded
//    through the objects, so a free object holds nothing but poison: every
//    byte of it is kPoison while it is free, and alloc() verifies that before
//    handing it out. A write through a stale pointer is a panic naming the
//    cache and the object's physical address (use after free).
//  - free() panics on a pointer outside this cache's frames, not at an
//    object boundary, or already free (double free).
//  - Allocation is deterministic: the first frame of the partial list, the
//    lowest free object in it.
//  - A frame whose objects are all free goes back to the page allocator,
//    except one, kept cached so that alloc/free at a frame boundary does not
//    thrash the allocator.
//
// alloc(), free() and drain() take the cache's leaf lock (Platform::leaf_lock):
// free only where one thread runs at a time, a real lock in the port's SMP
// stress mode, where processes on different CPUs share the caches.
#pragma once

#include <new>

#include "lib/list.hpp"
#include "lib/mutex.hpp"
#include "lib/types.hpp"
#include "lib/write_guard.hpp"
#include "vm/page.hpp"
#include "vm/page_allocator.hpp"

namespace vm {

class Platform;
class SlabCache;

// Bookkeeping at the start of every slab frame.
struct SlabPage {
  static constexpr u16 kMagic = 0x51ab;
  static constexpr u32 kMaxObjects = 512;

  u16 magic;  // kMagic while the frame belongs to a cache
  // Slab sanity (vm/slab_sanity.hpp): USE() scopes open on this frame; the
  // frame is writable while non-zero. Always 0 with sanity off.
  u16 uses;
  u16 capacity;
  u16 free_count;  // Invariant: the number of set bits of free_bits.
  SlabCache* cache;
  u64 free_bits[kMaxObjects / 64];  // bit i set: object i is free (and poisoned)
};

struct SlabStats {
  u64 in_use = 0;  // objects allocated and not freed
  u64 peak_in_use = 0;
  u64 frames = 0;  // frames held, the cached empty one included
  u64 allocs = 0;
  u64 frees = 0;
  u64 failed = 0;  // alloc() with no frame to be had
};

// Locking: (s) lock_, a leaf lock; (c) set by init() before first use.
class SlabCache {
 public:
  static constexpr u8 kPoison = 0x6b;  // every byte of a free object (Linux POISON_FREE)

  constexpr SlabCache() = default;
  SlabCache(const char* name, size_t object_size, size_t align, PageAllocator& pages,
            Platform& platform) {
    init(name, object_size, align, pages, platform);
  }
  SlabCache(const SlabCache&) = delete;
  SlabCache& operator=(const SlabCache&) = delete;

  // `name` must outlive the cache (it names the cache in panics). `align`
  // is a power of two; objects are at least 8-aligned. Panics if one object
  // does not fit in a frame after the header.
  void init(const char* name, size_t object_size, size_t align, PageAllocator& pages,
            Platform& platform);

  // An object's worth of bytes (filled with kPoison), or nullptr when no
  // frame can be had for `cls`.
  void* alloc(AllocClass cls = AllocClass::kNormal);
  // `obj` must come from alloc() of this cache and not be free yet, else
  // panic. nullptr is ignored.
  void free(void* obj);

  // Returns the cached empty frame, if any, to the page allocator.
  void drain();
  // Returns every frame; panics if an object is still allocated (a leak).
  void destroy();

  const char* name() const { return name_; }
  size_t object_size() const { return object_size_; }
  size_t stride() const { return stride_; }
  u32 objects_per_frame() const { return capacity_; }
  const SlabStats& stats() const { return stats_; }
  // Where object `i` starts in its frame, and which object the byte at
  // `offset` of a frame belongs to (-1: the header or the tail).
  size_t object_offset(u32 i) const { return first_ + i * stride_; }
  i64 object_index(size_t offset) const;

  // Audit: every frame is kSlab with a sound header owned by this cache, on
  // the list its free count says, bitmaps agree with counts, counts with the
  // stats, and every free object is still poisoned. nullptr or the name of
  // the first broken invariant. O(frames held × frame size).
  const char* check() const;

 private:
  u8* frame_base(const Page* page) const { return pages_->data(page); }
  u8* object_at(const Page* page, u32 i) const { return frame_base(page) + first_ + i * stride_; }
  Page* grow(AllocClass cls) REQUIRES(lock_);
  void release(Page* page) REQUIRES(lock_);
  const char* check_frame(const Page* page) const;
  [[noreturn]] void panic_at(const char* what, const void* obj, i64 detail = -1) const;

  const char* name_ = "";           // (c)
  PageAllocator* pages_ = nullptr;  // (c)
  Platform* platform_ = nullptr;    // (c)
  size_t object_size_ = 0;          // (c)
  size_t stride_ = 0;               // (c) object size rounded up to the alignment
  size_t first_ = 0;                // (c) offset of object 0 in a frame (after the header)
  u32 capacity_ = 0;                // (c) objects per frame
  // Invariant: partial_ holds the frames with 0 < free_count < capacity,
  // full_ those with free_count == 0; empty_ is the one cached frame with
  // free_count == capacity, or nullptr. No other frame is held.
  // (s) The frame lists, and each held frame's SlabPage header.
  List<Page, &Page::queue_node> partial_ GUARDED_BY(lock_);
  List<Page, &Page::queue_node> full_ GUARDED_BY(lock_);
  Page* empty_ GUARDED_BY(lock_) = nullptr;
  SlabStats stats_ GUARDED_BY(lock_);
  Mutex lock_{"slab", Mutex::Footprint::kUnordered};
};

// A SlabCache of T: constructs on create, destructs on destroy.
template <class T>
class TypedSlab {
 public:
  constexpr TypedSlab() = default;
  TypedSlab(const TypedSlab&) = delete;
  TypedSlab& operator=(const TypedSlab&) = delete;

  void init(const char* name, PageAllocator& pages, Platform& platform) {
    cache_.init(name, sizeof(T), alignof(T), pages, platform);
  }

  // A new T(args...), or nullptr when out of memory.
  template <class... Args>
  T* create(Args&&... args) {
    return create_in(AllocClass::kNormal, static_cast<Args&&>(args)...);
  }
  // The same, a new frame (if one is needed) taken as `cls`.
  template <class... Args>
  T* create_in(AllocClass cls, Args&&... args) {
    void* mem = cache_.alloc(cls);
    if (mem == nullptr) return nullptr;
    UseScope use(mem);
    return new (mem) T(static_cast<Args&&>(args)...);
  }
  // Destroys and frees `obj` (from create() of this slab); nullptr is ignored.
  void destroy(T* obj) {
    if (obj == nullptr) return;
    {
      UseScope use(obj);
      obj->~T();
    }
    cache_.free(obj);
  }

  SlabCache& cache() { return cache_; }
  const SlabCache& cache() const { return cache_; }
  const SlabStats& stats() const { return cache_.stats(); }
  const char* check() const { return cache_.check(); }

 private:
  SlabCache cache_;
};

}  // namespace vm
