// Slab caches: frames of equal objects, a free bitmap per frame, poison in
// every free byte.
#include "vm/slab.hpp"

#include "lib/format.hpp"
#include "lib/mem.hpp"
#include "lib/write_guard.hpp"
#include "locker.hpp"
#include "platform.hpp"

namespace vm {
namespace {

constexpr u64 kPoisonWord = 0x0101010101010101ull * SlabCache::kPoison;

constexpr size_t round_up(size_t x, size_t align) {
  return (x + align - 1) & ~(align - 1);
}

// Offset of the first byte of [p, p+n) that is not poison, or -1.
i64 find_unpoisoned(const u8* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    u64 w;
    mem_copy(&w, p + i, 8);
    if (w != kPoisonWord) break;
  }
  for (; i < n; ++i)
    if (p[i] != SlabCache::kPoison) return static_cast<i64>(i);
  return -1;
}

u32 lowest_set_bit(const SlabPage* sp) {
  for (u32 w = 0; w < SlabPage::kMaxObjects / 64; ++w)
    if (sp->free_bits[w] != 0) return w * 64 + static_cast<u32>(__builtin_ctzll(sp->free_bits[w]));
  return SlabPage::kMaxObjects;
}

bool bit(const SlabPage* sp, u32 i) {
  return (sp->free_bits[i / 64] >> (i % 64)) & 1;
}
void set_bit(SlabPage* sp, u32 i) {
  sp->free_bits[i / 64] |= u64{1} << (i % 64);
}
void clear_bit(SlabPage* sp, u32 i) {
  sp->free_bits[i / 64] &= ~(u64{1} << (i % 64));
}

}  // namespace

void SlabCache::init(const char* name, size_t object_size, size_t align, PageAllocator& pages,
                     Platform& platform) {
  name_ = name;
  pages_ = &pages;
  platform_ = &platform;
  if (align < 8) align = 8;
  if ((align & (align - 1)) != 0 || align > kPageSize / 2) panic_at("bad alignment", nullptr);
  object_size_ = object_size;
  stride_ = round_up(object_size == 0 ? 1 : object_size, align);
  first_ = round_up(sizeof(SlabPage), align);
  if (first_ + stride_ > kPageSize) panic_at("object too large for a one-frame slab", nullptr);
  const size_t cap = (kPageSize - first_) / stride_;
  capacity_ = static_cast<u32>(cap < SlabPage::kMaxObjects ? cap : SlabPage::kMaxObjects);
  LeafLocker guard(platform, lock_);
  stats_ = SlabStats{};
  empty_ = nullptr;
}

void SlabCache::panic_at(const char* what, const void* obj, i64 detail) const {
  FixedString<160> msg;
  msg << "slab " << name_ << ": " << what;
  if (obj != nullptr) {
    // A frame's physical address is deterministic where the host pointer is not.
    const Page* page = pages_ != nullptr ? pages_->page_containing(obj) : nullptr;
    if (page != nullptr) {
      const u8* base = frame_base(page);
      msg << " at phys " << Hex{pages_->phys(page) + (static_cast<const u8*>(obj) - base)};
    } else {
      msg << " at " << obj;
    }
  }
  if (detail >= 0) msg << " (byte " << detail << ")";
  platform_->panic(msg.c_str());
  __builtin_trap();  // panic() does not return; GCC cannot see that through a virtual call
}

Page* SlabCache::grow(AllocClass cls) {
  Page* page = pages_->alloc(cls);
  if (page == nullptr) return nullptr;
  page->state = Page::State::kSlab;
  u8* base = frame_base(page);
  auto* sp = reinterpret_cast<SlabPage*>(base);
  sp->magic = SlabPage::kMagic;
  sp->capacity = static_cast<u16>(capacity_);
  sp->free_count = static_cast<u16>(capacity_);
  sp->cache = this;
  mem_set(sp->free_bits, 0, sizeof sp->free_bits);
  for (u32 i = 0; i < capacity_; ++i) set_bit(sp, i);
  mem_set(base + first_, kPoison, capacity_ * stride_);
  page->slab = sp;
  if (active_write_guard != nullptr) active_write_guard->guard(base);
  ++stats_.frames;
  return page;
}

void SlabCache::release(Page* page) {
  if (active_write_guard != nullptr) active_write_guard->unguard(frame_base(page));
  page->slab->magic = 0;
  page->slab->cache = nullptr;
  page->slab = nullptr;
  --stats_.frames;
  pages_->free(page);
}

void* SlabCache::alloc(AllocClass cls) {
  LeafLocker guard(*platform_, lock_);
  Page* page = partial_.front();
  if (page == nullptr) {
    if (empty_ != nullptr) {
      page = empty_;
      empty_ = nullptr;
    } else {
      page = grow(cls);
      if (page == nullptr) {
        ++stats_.failed;
        return nullptr;
      }
    }
    partial_.push_front(page);
  }
  SlabPage* sp = page->slab;
  const u32 i = lowest_set_bit(sp);
  u8* obj = object_at(page, i);
  const i64 bad = find_unpoisoned(obj, stride_);
  if (bad >= 0) panic_at("use after free: free object modified", obj, bad);
  UseScope use(sp);
  clear_bit(sp, i);
  if (--sp->free_count == 0) {
    partial_.remove(page);
    full_.push_front(page);
  }
  ++stats_.allocs;
  if (++stats_.in_use > stats_.peak_in_use) stats_.peak_in_use = stats_.in_use;
  return obj;
}

void SlabCache::free(void* ptr) {
  if (ptr == nullptr) return;
  Page* page = pages_->page_containing(ptr);
  if (page == nullptr || page->state != Page::State::kSlab || page->slab == nullptr)
    panic_at("free of a pointer not from a slab", ptr);
  SlabPage* sp = page->slab;
  if (reinterpret_cast<u8*>(sp) != frame_base(page) || sp->magic != SlabPage::kMagic)
    panic_at("free into a frame with a corrupt slab header", ptr);
  if (sp->cache != this) panic_at("free of a pointer from another cache", ptr);
  const u8* p = static_cast<const u8*>(ptr);
  const u8* first = object_at(page, 0);
  if (p < first || static_cast<size_t>(p - first) % stride_ != 0 ||
      static_cast<size_t>(p - first) / stride_ >= capacity_)
    panic_at("free of a pointer not at an object boundary", ptr);
  const u32 i = static_cast<u32>(static_cast<size_t>(p - first) / stride_);
  LeafLocker guard(*platform_, lock_);
  if (bit(sp, i)) panic_at("double free", ptr);

  u16 was_free = 0;
  {
    UseScope use(sp);
    mem_set(ptr, kPoison, stride_);
    set_bit(sp, i);
    was_free = sp->free_count++;
  }
  ++stats_.frees;
  --stats_.in_use;
  if (was_free == 0) full_.remove(page);
  if (sp->free_count == capacity_) {
    if (was_free != 0) partial_.remove(page);
    if (empty_ == nullptr) {
      empty_ = page;
    } else {
      release(page);
    }
  } else if (was_free == 0) {
    partial_.push_front(page);
  }
}

void SlabCache::drain() {
  LeafLocker guard(*platform_, lock_);
  if (empty_ == nullptr) return;
  Page* page = empty_;
  empty_ = nullptr;
  release(page);
}

void SlabCache::destroy() {
  u64 in_use = 0;
  {
    LeafLocker guard(*platform_, lock_);
    in_use = stats_.in_use;
  }
  if (in_use != 0) {
    FixedString<64> what;
    what << "destroy with " << in_use << " objects in use";
    panic_at(what.c_str(), nullptr);
  }
  drain();
}

i64 SlabCache::object_index(size_t offset) const {
  if (offset < first_ || offset >= first_ + capacity_ * stride_) return -1;
  return static_cast<i64>((offset - first_) / stride_);
}

const char* SlabCache::check_frame(const Page* page) const {
  if (page->state != Page::State::kSlab) return "slab.frame_state";
  const SlabPage* sp = page->slab;
  if (reinterpret_cast<const u8*>(sp) != frame_base(page) || sp->magic != SlabPage::kMagic)
    return "slab.header";
  if (sp->cache != this || sp->capacity != capacity_) return "slab.owner";
  u32 set = 0;
  for (u32 i = 0; i < SlabPage::kMaxObjects; ++i) {
    if (!bit(sp, i)) continue;
    if (i >= capacity_) return "slab.bitmap";
    ++set;
    if (find_unpoisoned(object_at(page, i), stride_) >= 0) return "slab.poison";
  }
  if (set != sp->free_count) return "slab.free_count";
  return nullptr;
}

// Not analysed: an audit, run while no thread runs core code.
const char* SlabCache::check() const NO_THREAD_SAFETY_ANALYSIS {
  if (const char* err = partial_.check()) return err;
  if (const char* err = full_.check()) return err;
  u64 in_use = 0;
  for (const Page* p = partial_.front(); p != nullptr; p = partial_.next(p)) {
    if (const char* err = check_frame(p)) return err;
    if (p->slab->free_count == 0 || p->slab->free_count == capacity_) return "slab.partial_list";
    in_use += capacity_ - p->slab->free_count;
  }
  for (const Page* p = full_.front(); p != nullptr; p = full_.next(p)) {
    if (const char* err = check_frame(p)) return err;
    if (p->slab->free_count != 0) return "slab.full_list";
    in_use += capacity_;
  }
  if (empty_ != nullptr) {
    if (const char* err = check_frame(empty_)) return err;
    if (empty_->slab->free_count != capacity_ || empty_->queue_node.linked())
      return "slab.empty_frame";
  }
  if (stats_.frames != partial_.size() + full_.size() + (empty_ != nullptr ? 1 : 0))
    return "slab.frames";
  if (stats_.in_use != in_use) return "slab.in_use";
  return nullptr;
}

}  // namespace vm
