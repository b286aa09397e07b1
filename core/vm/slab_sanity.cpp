// Slab sanity: slab frames read-only outside USE().
#include "vm/slab_sanity.hpp"

#include "platform.hpp"
#include "vm/page.hpp"
#include "vm/page_allocator.hpp"
#include "vm/slab.hpp"

namespace vm {

SlabSanity::~SlabSanity() {
  if (active_write_guard == this) active_write_guard = nullptr;
}

bool SlabSanity::enable(PageAllocator& pages, Platform& platform) {
  if (!platform.can_protect_frames()) return false;
  pages_ = &pages;
  platform_ = &platform;
  active_write_guard = this;
  return true;
}

// Not analysed: a frame's header is written here with the cache lock not
// held. Uses of one frame come from one thread at a time where sanity runs
// (the simulator, the port's deterministic mode).
Page* SlabSanity::slab_frame(const void* p) const NO_THREAD_SAFETY_ANALYSIS {
  Page* page = pages_->page_containing(p);
  if (page == nullptr || page->state != Page::State::kSlab || page->slab == nullptr) return nullptr;
  return page;
}

void SlabSanity::open(const void* p) {
  Page* page = slab_frame(p);
  if (page == nullptr) return;
  if (page->slab->uses == 0) platform_->protect_frame(pages_->phys(page), true);
  ++page->slab->uses;
}

void SlabSanity::close(const void* p) {
  Page* page = slab_frame(p);
  // A frame given back (or taken again) inside the scope has its count reset.
  if (page == nullptr || page->slab->uses == 0) return;
  if (--page->slab->uses == 0) platform_->protect_frame(pages_->phys(page), false);
}

void SlabSanity::guard(const void* p) {
  Page* page = slab_frame(p);
  if (page == nullptr) return;
  page->slab->uses = 0;
  platform_->protect_frame(pages_->phys(page), false);
}

void SlabSanity::unguard(const void* p) {
  if (Page* page = slab_frame(p)) platform_->protect_frame(pages_->phys(page), true);
}

bool SlabSanity::write_trapped(paddr_t pa) {
  Page* page = on() ? pages_->page_of(pa) : nullptr;
  if (page == nullptr || page->state != Page::State::kSlab || page->slab == nullptr) return false;
  const SlabPage* sp = page->slab;
  if (sp->uses != 0) {
    // Open as far as the core knows: this CPU's TLB kept the read-only
    // entry of an earlier protection (the port opens frames on one CPU).
    platform_->protect_frame(pages_->phys(page), true);
    return true;
  }
  if (!violated_) {
    violated_ = true;
    const u64 offset = pa & (kPageSize - 1);
    const i64 object = sp->cache->object_index(offset);
    violation_ << "slab " << sp->cache->name() << ": write without USE() to ";
    if (object < 0) {
      violation_ << "the frame header";
    } else {
      const u64 start = sp->cache->object_offset(static_cast<u32>(object));
      violation_ << "object " << object << " at phys " << Hex{pages_->phys(page) + start}
                 << " (byte " << (offset - start) << ")";
    }
  }
  // Open it for good (no scope will close it): the run has failed, and the
  // write must complete.
  platform_->protect_frame(pages_->phys(page), true);
  page->slab->uses = 1;
  return true;
}

}  // namespace vm
