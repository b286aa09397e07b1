#include "vm/compressor/compressed_store.hpp"

#include "lib/format.hpp"
#include "lib/mem.hpp"
#include "platform.hpp"

namespace vm {

void CompressedStore::init(Platform& platform, FrameSource& source, u64 budget_bytes,
                           StoredPage* slots, u32 slot_count, PoolFrame* frames, u32 frame_count) {
  platform_ = &platform;
  source_ = &source;
  budget_ = budget_bytes;
  slots_ = slots;
  slot_count_ = slot_count;
  frames_ = frames;
  const u64 by_budget = frames_for(budget_bytes);
  frame_limit_ = by_budget < frame_count ? static_cast<u32>(by_budget) : frame_count;
  open_ = kNoSlot;
  stats_ = {};
  // Free slots in ascending order: the lowest is handed out first.
  free_slot_ = kNoSlot;
  for (u32 i = slot_count; i-- > 0;) {
    slots_[i] = StoredPage{};
    slots_[i].frame = free_slot_;
    free_slot_ = i;
  }
  for (u32 i = 0; i < frame_count; ++i) frames_[i] = PoolFrame{};
}

StoredPage* CompressedStore::slot_of(CompressedHandle h, const char* what) const {
  const bool in_range = h.id != 0 && h.id <= slot_count_;
  if (in_range && slots_[h.id - 1].kind != StoredPage::Kind::kFree) return &slots_[h.id - 1];
  FixedString<96> msg;
  msg << "compressed store: " << what << " of handle " << h.id
      << (in_range ? ", already free" : ", not a slot");
  platform_->panic(msg.c_str());
  __builtin_trap();  // panic() does not return; GCC cannot see that through a virtual call
}

u32 CompressedStore::take_slot() {
  const u32 slot = free_slot_;
  if (slot != kNoSlot) free_slot_ = slots_[slot].frame;
  return slot;
}

void CompressedStore::release_slot(u32 slot) {
  slots_[slot] = StoredPage{};
  slots_[slot].frame = free_slot_;
  free_slot_ = slot;
}

u32 CompressedStore::take_frame(StoreStatus* why) {
  for (u32 i = 0; i < frame_limit_; ++i) {
    if (frames_[i].data != nullptr) continue;
    u8* data = source_->alloc_frame();
    if (data == nullptr) {
      *why = StoreStatus::kNoFrame;
      return kNoSlot;
    }
    frames_[i] = PoolFrame{};
    frames_[i].data = data;
    if (++stats_.frames > stats_.peak_frames) stats_.peak_frames = stats_.frames;
    return i;
  }
  *why = StoreStatus::kNoRoom;  // the budget is all held
  return kNoSlot;
}

void CompressedStore::release_frame(u32 frame) {
  source_->free_frame(frames_[frame].data);
  frames_[frame] = PoolFrame{};
  --stats_.frames;
  ++stats_.frames_released;
  if (open_ == frame) open_ = kNoSlot;
}

void CompressedStore::append(u32 frame, u32 slot) {
  PoolFrame& f = frames_[frame];
  StoredPage& s = slots_[slot];
  s.frame = frame;
  s.prev = f.last;
  s.next = kNoSlot;
  if (f.last == kNoSlot) {
    f.first = slot;
  } else {
    slots_[f.last].next = slot;
  }
  f.last = slot;
  f.top = s.offset + s.length;
  f.live_bytes += s.length;
  ++f.live_pages;
}

void CompressedStore::unlink(u32 frame, u32 slot) {
  PoolFrame& f = frames_[frame];
  StoredPage& s = slots_[slot];
  if (s.prev == kNoSlot) {
    f.first = s.next;
  } else {
    slots_[s.prev].next = s.next;
  }
  if (s.next == kNoSlot) {
    f.last = s.prev;
  } else {
    slots_[s.next].prev = s.prev;
  }
  f.live_bytes -= s.length;
  --f.live_pages;
}

StoreStatus CompressedStore::store(const u8* bytes, u32 length, CompressedHandle* out) {
  if (length == 0 || length > kPageSize) return StoreStatus::kBadLength;
  if (free_slot_ == kNoSlot) return StoreStatus::kNoSlot;
  const auto fits = [&](u32 frame) {
    return frame != kNoSlot && frames_[frame].top + length <= kPageSize;
  };
  if (!fits(open_)) {
    StoreStatus why = StoreStatus::kOk;
    u32 fresh = take_frame(&why);
    if (fresh == kNoSlot) {
      // No new frame: if the holes add up to enough, close them; then the
      // open frame or a fresh one may have room.
      if (stats_.frames * kPageSize - stats_.live_bytes < length) return why;
      compact();
      if (!fits(open_)) fresh = take_frame(&why);
    }
    if (fresh != kNoSlot) open_ = fresh;
    if (!fits(open_)) return why;
  }
  const u32 slot = take_slot();
  StoredPage& s = slots_[slot];
  s.kind = StoredPage::Kind::kPacked;
  s.offset = static_cast<u16>(frames_[open_].top);
  s.length = static_cast<u16>(length);
  mem_copy(frames_[open_].data + s.offset, bytes, length);
  append(open_, slot);
  stats_.live_bytes += length;
  ++stats_.packed_pages;
  out->id = slot + 1;
  return StoreStatus::kOk;
}

StoreStatus CompressedStore::store_single_value(u64 value, CompressedHandle* out) {
  const u32 slot = take_slot();
  if (slot == kNoSlot) return StoreStatus::kNoSlot;
  slots_[slot].kind = StoredPage::Kind::kSingleValue;
  slots_[slot].frame = kNoSlot;
  slots_[slot].value = value;
  ++stats_.single_value_pages;
  out->id = slot + 1;
  return StoreStatus::kOk;
}

StoredView CompressedStore::view(CompressedHandle h) const {
  const StoredPage* s = slot_of(h, "view");
  StoredView v;
  if (s->kind == StoredPage::Kind::kSingleValue) {
    v.single_value = true;
    v.value = s->value;
  } else {
    v.bytes = frames_[s->frame].data + s->offset;
    v.length = s->length;
  }
  return v;
}

void CompressedStore::free(CompressedHandle h) {
  StoredPage* s = slot_of(h, "free");
  const u32 slot = h.id - 1;
  if (s->kind == StoredPage::Kind::kSingleValue) {
    --stats_.single_value_pages;
    release_slot(slot);
    return;
  }
  const u32 frame = s->frame;
  unlink(frame, slot);
  stats_.live_bytes -= s->length;
  --stats_.packed_pages;
  release_slot(slot);
  PoolFrame& f = frames_[frame];
  if (f.live_pages == 0) {
    if (frame == open_) {
      f.top = 0;  // keep the open frame, empty
    } else {
      release_frame(frame);
    }
  } else if (f.last != kNoSlot && frame == open_) {
    // Freeing the open frame's topmost page gives its bytes straight back.
    f.top = slots_[f.last].offset + slots_[f.last].length;
  }
  if (compaction_due()) compact();
}

bool CompressedStore::compaction_due() const {
  const u64 held = stats_.frames * kPageSize;
  const u64 free_bytes = held - stats_.live_bytes;
  return free_bytes >= 2 * kPageSize && free_bytes * 4 >= held;
}

void CompressedStore::compact() {
  ++stats_.compactions;
  u32 dst = kNoSlot;  // the frame being filled
  u32 dst_top = 0;
  for (u32 src = 0; src < frame_limit_; ++src) {
    PoolFrame& from = frames_[src];
    if (from.data == nullptr) continue;
    // Detach the frame's list; its pages are appended again wherever they land.
    u32 slot = from.first;
    from.first = from.last = kNoSlot;
    from.top = from.live_bytes = from.live_pages = 0;
    if (dst == kNoSlot) dst = src;
    while (slot != kNoSlot) {
      const u32 next = slots_[slot].next;
      StoredPage& s = slots_[slot];
      if (dst_top + s.length > kPageSize) {
        // The next held frame; never past `src`, where this page already fits.
        do ++dst;
        while (frames_[dst].data == nullptr);
        dst_top = 0;
      }
      u8* to = frames_[dst].data + dst_top;
      const u8* at = from.data + s.offset;
      if (to != at) {
        __builtin_memmove(to, at, s.length);
        stats_.bytes_moved += s.length;
      }
      s.offset = static_cast<u16>(dst_top);
      append(dst, slot);
      dst_top += s.length;
      slot = next;
    }
  }
  // Frames past the last one filled hold nothing now.
  for (u32 i = 0; i < frame_limit_; ++i)
    if (frames_[i].data != nullptr && frames_[i].live_pages == 0 && i != dst) release_frame(i);
  open_ = dst;
}

void CompressedStore::drain() {
  compact();
  if (open_ != kNoSlot && frames_[open_].live_pages == 0) release_frame(open_);
}

const char* CompressedStore::check() const {
  u64 frames = 0, live_bytes = 0, packed = 0;
  for (u32 i = 0; i < frame_limit_; ++i) {
    const PoolFrame& f = frames_[i];
    if (f.data == nullptr) {
      if (f.first != kNoSlot || f.last != kNoSlot || f.top != 0 || f.live_pages != 0)
        return "compressed store: an unheld frame entry lists pages";
      continue;
    }
    ++frames;
    if (f.top > kPageSize) return "compressed store: a frame's top is past its end";
    u32 end = 0, count = 0, bytes = 0, prev = kNoSlot;
    for (u32 s = f.first; s != kNoSlot; s = slots_[s].next) {
      if (s >= slot_count_ || ++count > slot_count_)
        return "compressed store: a frame list is broken";
      const StoredPage& p = slots_[s];
      if (p.kind != StoredPage::Kind::kPacked || p.frame != i)
        return "compressed store: a frame lists a page that is not packed in it";
      if (p.prev != prev) return "compressed store: a frame list's back links are wrong";
      if (p.length == 0 || p.offset < end) return "compressed store: packed pages overlap";
      end = p.offset + p.length;
      if (end > f.top) return "compressed store: a packed page is above its frame's top";
      bytes += p.length;
      prev = s;
    }
    if (prev != f.last) return "compressed store: a frame's last page is wrong";
    if (count != f.live_pages || bytes != f.live_bytes)
      return "compressed store: a frame's counts disagree with its list";
    live_bytes += bytes;
    packed += count;
  }
  if (open_ != kNoSlot && (open_ >= frame_limit_ || frames_[open_].data == nullptr))
    return "compressed store: the open frame is not held";
  u64 single = 0, free_slots = 0, listed_packed = 0;
  for (u32 i = 0; i < slot_count_; ++i) {
    switch (slots_[i].kind) {
      case StoredPage::Kind::kFree:
        ++free_slots;
        break;
      case StoredPage::Kind::kSingleValue:
        ++single;
        break;
      case StoredPage::Kind::kPacked:
        ++listed_packed;
        break;
    }
  }
  u64 on_free_list = 0;
  for (u32 s = free_slot_; s != kNoSlot; s = slots_[s].frame) {
    if (s >= slot_count_ || ++on_free_list > slot_count_)
      return "compressed store: the free-slot list is broken";
    if (slots_[s].kind != StoredPage::Kind::kFree)
      return "compressed store: a slot in use is on the free list";
  }
  if (on_free_list != free_slots) return "compressed store: a free slot is not on the free list";
  if (listed_packed != packed) return "compressed store: a packed slot is in no frame's list";
  if (frames != stats_.frames || live_bytes != stats_.live_bytes || packed != stats_.packed_pages ||
      single != stats_.single_value_pages)
    return "compressed store: the stats disagree with the frames and slots";
  if (frames * kPageSize > budget_) return "compressed store: more frames held than the budget";
  return nullptr;
}

}  // namespace vm
