// vmem arenas (see vmem.hpp for the structure and its invariants).
#include "vm/vmem.hpp"

#include <new>

namespace vm {
namespace {

using Kind = VmemSegment::Kind;

constexpr bool is_pow2(u64 x) {
  return x != 0 && (x & (x - 1)) == 0;
}

constexpr unsigned log2_floor(u64 x) {
  return 63u - static_cast<unsigned>(__builtin_clzll(x));
}

// Rounds `x` up to a multiple of the power of two `q`; false on overflow.
constexpr bool round_up(u64 x, u64 q, u64* out) {
  const u64 r = (x + (q - 1)) & ~(q - 1);
  if (r < x) return false;
  *out = r;
  return true;
}

// [start, start+size) holds a multiple of `boundary` other than its start.
constexpr bool crosses(u64 start, u64 size, u64 boundary) {
  return ((start ^ (start + size - 1)) & ~(boundary - 1)) != 0;
}

// The first address at or above `x` that is `phase` modulo `align` (a power
// of two); false on overflow.
constexpr bool phase_up(u64 x, u64 align, u64 phase, u64* out) {
  const u64 r = x + ((phase - x) & (align - 1));
  if (r < x) return false;
  *out = r;
  return true;
}

// A page of tags: its first tag-sized slot holds the link to the next page.
constexpr u64 kTagsPerPage = kPageSize / sizeof(VmemSegment) - 1;
constexpr u64 kBucketsPerPage = kPageSize / sizeof(VmemSegment*);
static_assert(kTagsPerPage >= 8);

}  // namespace

VmemStatus VmemArena::init(const Config& config) {
  if (!is_pow2(config.quantum) || config.pages == nullptr) return VmemStatus::kInvalid;
  config_ = config;
  if (config_.source != nullptr && config_.import_quantum == 0)
    config_.import_quantum =
        config_.quantum > config_.source->quantum() ? config_.quantum : config_.source->quantum();
  if (config_.source != nullptr && !is_pow2(config_.import_quantum)) return VmemStatus::kInvalid;
  const u64 caches = config_.qcache_max / config_.quantum;
  qcache_count_ = static_cast<unsigned>(caches < kMaxQcaches ? caches : kMaxQcaches);
  return VmemStatus::kOk;
}

// ---- Boundary tags ------------------------------------------------------------

// Tags come in pages; a page's first word links it to the next one.
bool VmemArena::reserve_tags(unsigned n) {
  while (spare_tags_.size() < n) {
    void* page = config_.pages->alloc_page();
    if (page == nullptr) return false;
    *static_cast<void**>(page) = tag_pages_;
    tag_pages_ = page;
    auto* tags = reinterpret_cast<VmemSegment*>(static_cast<u8*>(page) + sizeof(VmemSegment));
    for (u64 i = 0; i < kTagsPerPage; ++i) spare_tags_.push_back(new (&tags[i]) VmemSegment());
  }
  return true;
}

VmemSegment* VmemArena::take_tag() {
  VmemSegment* t = spare_tags_.pop_front();
  t->start = t->size = 0;
  t->kind = Kind::kFree;
  t->hash_next = nullptr;
  return t;
}

void VmemArena::put_tag(VmemSegment* t) {
  if (rotor_ == t) rotor_ = nullptr;
  spare_tags_.push_front(t);
}

// ---- Free lists ------------------------------------------------------------------

unsigned VmemArena::list_index(u64 size) {
  return log2_floor(size);
}

void VmemArena::insert_free(VmemSegment* s) {
  const unsigned k = list_index(s->size);
  free_lists_[k].push_front(s);
  freemap_ |= u64{1} << k;
  ++stats_.free_segments;
}

void VmemArena::remove_free(VmemSegment* s) {
  const unsigned k = list_index(s->size);
  free_lists_[k].remove(s);
  if (free_lists_[k].empty()) freemap_ &= ~(u64{1} << k);
  --stats_.free_segments;
}

// ---- The hash of allocated segments ------------------------------------------

VmemSegment** VmemArena::bucket(u64 start) const {
  const u64 buckets = hash_page_count_ * kBucketsPerPage;
  const u64 h = (start / config_.quantum) * 0x9e3779b97f4a7c15ull;
  const u64 i = h >> (64 - log2_floor(buckets));
  return &hash_pages_[i / kBucketsPerPage][i % kBucketsPerPage];
}

// Doubles the buckets (the first call makes one page of them). False, with
// the table unchanged, when pages run out or the table is at its largest.
bool VmemArena::grow_hash() {
  const u64 old_count = hash_page_count_;
  const u64 new_count = old_count == 0 ? 1 : old_count * 2;
  if (new_count > kMaxHashPages) return false;
  VmemSegment** fresh[kMaxHashPages] = {};
  for (u64 i = 0; i < new_count; ++i) {
    fresh[i] = static_cast<VmemSegment**>(config_.pages->alloc_page());
    if (fresh[i] == nullptr) {
      for (u64 j = 0; j < i; ++j) config_.pages->free_page(fresh[j]);
      return false;
    }
    for (u64 b = 0; b < kBucketsPerPage; ++b) fresh[i][b] = nullptr;
  }
  VmemSegment** old[kMaxHashPages] = {};
  for (u64 i = 0; i < old_count; ++i) old[i] = hash_pages_[i];
  for (u64 i = 0; i < new_count; ++i) hash_pages_[i] = fresh[i];
  hash_page_count_ = new_count;
  for (u64 i = 0; i < old_count; ++i) {
    for (u64 b = 0; b < kBucketsPerPage; ++b) {
      for (VmemSegment* s = old[i][b]; s != nullptr;) {
        VmemSegment* next = s->hash_next;
        VmemSegment** head = bucket(s->start);
        s->hash_next = *head;
        *head = s;
        s = next;
      }
    }
    config_.pages->free_page(old[i]);
  }
  return true;
}

void VmemArena::hash_insert(VmemSegment* s) {
  // Keep chains short (two per bucket on average); a table that cannot grow
  // still works, with longer chains.
  if (stats_.alloc_segments + 1 > 2 * hash_page_count_ * kBucketsPerPage) (void)grow_hash();
  VmemSegment** head = bucket(s->start);
  s->hash_next = *head;
  *head = s;
  ++stats_.alloc_segments;
}

VmemSegment* VmemArena::hash_find(u64 start) const {
  if (hash_page_count_ == 0) return nullptr;
  for (VmemSegment* s = *bucket(start); s != nullptr; s = s->hash_next)
    if (s->start == start) return s;
  return nullptr;
}

VmemSegment* VmemArena::hash_remove(u64 start) {
  if (hash_page_count_ == 0) return nullptr;
  for (VmemSegment** link = bucket(start); *link != nullptr; link = &(*link)->hash_next) {
    VmemSegment* s = *link;
    if (s->start != start) continue;
    *link = s->hash_next;
    s->hash_next = nullptr;
    --stats_.alloc_segments;
    return s;
  }
  return nullptr;
}

// ---- Finding a fit -----------------------------------------------------------------

// Whether `size` bytes satisfying `c` fit in the free segment `s`; if so,
// the lowest such start.
bool VmemArena::fits(const VmemSegment* s, u64 size, const VmemConstraints& c, u64* start) const {
  u64 lo = s->start, hi = s->end();
  if (c.min_addr > lo) lo = c.min_addr;
  if (c.max_addr != 0 && c.max_addr < hi) hi = c.max_addr;
  if (lo >= hi || hi - lo < size) return false;
  const u64 align = c.align != 0 ? c.align : config_.quantum;
  u64 st = 0;
  if (!phase_up(lo, align, c.phase, &st)) return false;
  if (c.nocross != 0 && crosses(st, size, c.nocross)) {
    const u64 boundary = (st | (c.nocross - 1)) + 1;
    if (boundary == 0 || !phase_up(boundary, align, c.phase, &st)) return false;
    if (crosses(st, size, c.nocross)) return false;
  }
  if (st > hi || hi - st < size) return false;
  *start = st;
  return true;
}

// Instant fit: every segment on a list at or above ceil(log2 size) fits, so
// the first non-empty one (one bit scan) gives the answer. When there is
// none, size's own list may still hold a segment large enough.
VmemSegment* VmemArena::find_instant(u64 size) {
  const unsigned k = list_index(size);
  const unsigned sure = is_pow2(size) ? k : k + 1;
  if (sure < kFreeLists) {
    const u64 lists = freemap_ & (~u64{0} << sure);
    if (lists != 0) return free_lists_[__builtin_ctzll(lists)].front();
  }
  for (VmemSegment* s : free_lists_[k])
    if (s->size >= size) return s;
  return nullptr;
}

// Searches the lists from size's own upward: the first fit, or the best
// one. Every segment on a higher list is larger than any on a lower one, so
// a best fit found on one list is the best of all.
VmemSegment* VmemArena::find_in_lists(u64 size, const VmemConstraints& c, bool best, u64* start) {
  VmemSegment* found = nullptr;
  u64 found_start = 0;
  for (u64 lists = freemap_ & (~u64{0} << list_index(size)); lists != 0; lists &= lists - 1) {
    for (VmemSegment* s : free_lists_[__builtin_ctzll(lists)]) {
      u64 st = 0;
      if (!fits(s, size, c, &st)) continue;
      if (!best) {
        *start = st;
        return s;
      }
      if (found == nullptr || s->size < found->size ||
          (s->size == found->size && s->start < found->start)) {
        found = s;
        found_start = st;
      }
    }
    if (found != nullptr) break;
  }
  *start = found_start;
  return found;
}

// Next fit: the first free segment that fits, in address order from where
// the previous allocation ended, wrapping around once.
VmemSegment* VmemArena::find_next(u64 size, const VmemConstraints& c, u64* start) {
  VmemSegment* first = rotor_ != nullptr ? rotor_ : segments_.front();
  if (first == nullptr) return nullptr;
  VmemSegment* s = first;
  do {
    if (s->kind == Kind::kFree && fits(s, size, c, start)) return s;
    s = segments_.next(s);
    if (s == nullptr) s = segments_.front();
  } while (s != first);
  return nullptr;
}

VmemSegment* VmemArena::find(u64 size, const VmemConstraints& c, VmemPolicy policy,
                             bool constrained, u64* start) {
  switch (policy) {
    case VmemPolicy::kInstantFit:
      if (!constrained) {
        VmemSegment* s = find_instant(size);
        if (s != nullptr) *start = s->start;
        return s;
      }
      return find_in_lists(size, c, false, start);
    case VmemPolicy::kBestFit:
      return find_in_lists(size, c, true, start);
    case VmemPolicy::kNextFit:
      return find_next(size, c, start);
  }
  return nullptr;
}

// ---- Cutting and joining -----------------------------------------------------------

// Allocates [start, start+size) out of the free segment `s`: what is left
// before and after it becomes free segments of their own. Needs two spare
// tags.
u64 VmemArena::carve(VmemSegment* s, u64 start, u64 size) {
  remove_free(s);
  if (start > s->start) {
    VmemSegment* before = take_tag();
    before->start = s->start;
    before->size = start - s->start;
    segments_.insert_before(s, before);
    insert_free(before);
  }
  if (start + size < s->end()) {
    VmemSegment* after = take_tag();
    after->start = start + size;
    after->size = s->end() - after->start;
    segments_.insert_after(s, after);
    insert_free(after);
  }
  s->start = start;
  s->size = size;
  s->kind = Kind::kAlloc;
  hash_insert(s);
  stats_.alloc_bytes += size;
  rotor_ = segments_.next(s);
  return start;
}

// `s` (allocated, out of the hash) becomes free and joins its free
// neighbours; a span imported from the source that is wholly free again
// goes back to it.
void VmemArena::free_range(VmemSegment* s) {
  stats_.alloc_bytes -= s->size;
  s->kind = Kind::kFree;
  if (VmemSegment* p = segments_.prev(s); p != nullptr && p->kind == Kind::kFree) {
    remove_free(p);
    s->start = p->start;
    s->size += p->size;
    segments_.remove(p);
    if (rotor_ == p) rotor_ = s;
    put_tag(p);
  }
  if (VmemSegment* n = segments_.next(s); n != nullptr && n->kind == Kind::kFree) {
    remove_free(n);
    s->size += n->size;
    segments_.remove(n);
    if (rotor_ == n) rotor_ = s;
    put_tag(n);
  }
  release_span_if_empty(s);
}

void VmemArena::release_span_if_empty(VmemSegment* s) {
  VmemSegment* span = segments_.prev(s);
  if (span->kind != Kind::kImportedSpan || span->size != s->size) {
    insert_free(s);
    return;
  }
  const u64 base = span->start, size = span->size;
  segments_.remove(s);
  segments_.remove(span);
  put_tag(s);
  put_tag(span);
  stats_.span_bytes -= size;
  --stats_.spans;
  --stats_.imported_spans;
  (void)config_.source->free(base, size);
}

VmemStatus VmemArena::add_span(u64 base, u64 size, Kind kind) {
  if (size == 0 || base + size < base) return VmemStatus::kInvalid;
  // The first span that starts above `base`: the new one goes before it.
  VmemSegment* next_span = nullptr;
  VmemSegment* prev_span = nullptr;
  for (VmemSegment* t : segments_) {
    if (!t->is_span()) continue;
    if (t->start > base) {
      next_span = t;
      break;
    }
    prev_span = t;
  }
  if (prev_span != nullptr && prev_span->end() > base) return VmemStatus::kInvalid;
  if (next_span != nullptr && base + size > next_span->start) return VmemStatus::kInvalid;
  if (!reserve_tags(2)) return VmemStatus::kNoTags;
  VmemSegment* span = take_tag();
  span->start = base;
  span->size = size;
  span->kind = kind;
  VmemSegment* seg = take_tag();
  seg->start = base;
  seg->size = size;
  if (next_span != nullptr) {
    segments_.insert_before(next_span, span);
  } else {
    segments_.push_back(span);
  }
  segments_.insert_after(span, seg);
  insert_free(seg);
  stats_.span_bytes += size;
  ++stats_.spans;
  if (kind == Kind::kImportedSpan) ++stats_.imported_spans;
  return VmemStatus::kOk;
}

VmemStatus VmemArena::add(u64 base, u64 size) {
  const u64 q = config_.quantum;
  if (config_.pages == nullptr || (base & (q - 1)) != 0 || (size & (q - 1)) != 0)
    return VmemStatus::kInvalid;
  return add_span(base, size, Kind::kSpan);
}

// Brings a span from the source large enough that `size` bytes under `c`
// fit in it: aligned as asked, `phase` + size long, within the limits.
VmemStatus VmemArena::import(u64 size, const VmemConstraints& c) {
  if (config_.source == nullptr) return VmemStatus::kNoSpace;
  u64 span_size = 0;
  if (size + c.phase < size || !round_up(size + c.phase, config_.import_quantum, &span_size))
    return VmemStatus::kNoSpace;
  VmemConstraints pc;
  pc.align = c.align > config_.source->quantum() ? c.align : 0;
  pc.min_addr = c.min_addr;
  pc.max_addr = c.max_addr;
  u64 base = 0;
  const VmemStatus st = config_.source->xalloc(span_size, pc, VmemPolicy::kInstantFit, &base);
  if (st != VmemStatus::kOk) return st == VmemStatus::kNoTags ? st : VmemStatus::kNoSpace;
  const VmemStatus added = add_span(base, span_size, Kind::kImportedSpan);
  if (added != VmemStatus::kOk) (void)config_.source->free(base, span_size);
  return added;
}

// ---- Allocation ---------------------------------------------------------------------

VmemArena::Qcache* VmemArena::qcache_for(u64 size) {
  const u64 quanta = size / config_.quantum;
  return quanta >= 1 && quanta <= qcache_count_ ? &qcaches_[quanta - 1] : nullptr;
}

VmemStatus VmemArena::alloc_range(u64 size, const VmemConstraints& c, VmemPolicy policy,
                                  bool constrained, u64* out) {
  // Carving takes up to two tags and an import two more: take them first,
  // so that nothing fails half-way. The hash needs its first page too.
  if (!reserve_tags(4) || (hash_page_count_ == 0 && !grow_hash())) {
    ++stats_.failures;
    return VmemStatus::kNoTags;
  }
  u64 start = 0;
  VmemSegment* s = find(size, c, policy, constrained, &start);
  if (s == nullptr && qcache_count_ != 0) {
    reap();  // ranges the quantum caches hold may be what is missing
    s = find(size, c, policy, constrained, &start);
  }
  if (s == nullptr) {
    const VmemStatus st = import(size, c);
    if (st == VmemStatus::kOk) s = find(size, c, policy, constrained, &start);
    if (s == nullptr) {
      ++stats_.failures;
      return st == VmemStatus::kNoTags ? st : VmemStatus::kNoSpace;
    }
  }
  *out = carve(s, start, size);
  ++stats_.allocs;
  return VmemStatus::kOk;
}

VmemStatus VmemArena::alloc(u64 size, VmemPolicy policy, u64* out) {
  if (config_.pages == nullptr || size == 0 || !round_up(size, config_.quantum, &size))
    return VmemStatus::kInvalid;
  if (Qcache* q = qcache_for(size); q != nullptr && q->count != 0) {
    *out = q->addr[--q->count];
    ++stats_.allocs;
    ++stats_.qcache_hits;
    return VmemStatus::kOk;
  }
  return alloc_range(size, VmemConstraints{}, policy, false, out);
}

VmemStatus VmemArena::xalloc(u64 size, const VmemConstraints& c, VmemPolicy policy, u64* out) {
  const u64 q = config_.quantum;
  if (config_.pages == nullptr || size == 0 || !round_up(size, q, &size))
    return VmemStatus::kInvalid;
  const bool bad_align = c.align != 0 && (!is_pow2(c.align) || c.align < q);
  const bool bad_phase =
      (c.phase & (q - 1)) != 0 || (c.align == 0 ? c.phase != 0 : c.phase >= c.align);
  const bool bad_nocross =
      c.nocross != 0 && (!is_pow2(c.nocross) || c.nocross < size || c.nocross < c.align);
  const bool bad_range = c.max_addr != 0 && c.max_addr <= c.min_addr;
  if (bad_align || bad_phase || bad_nocross || bad_range) return VmemStatus::kInvalid;
  const bool constrained = c.align != 0 || c.nocross != 0 || c.min_addr != 0 || c.max_addr != 0;
  return alloc_range(size, c, policy, constrained, out);
}

VmemStatus VmemArena::free(u64 addr, u64 size) {
  if (config_.pages == nullptr || size == 0 || !round_up(size, config_.quantum, &size))
    return VmemStatus::kInvalid;
  VmemSegment* s = hash_find(addr);
  if (s == nullptr || s->size != size) return VmemStatus::kInvalid;
  Qcache* q = qcache_for(size);
  if (q != nullptr) {
    for (u64 i = 0; i < q->count; ++i)
      if (q->addr[i] == addr) return VmemStatus::kInvalid;  // freed already, held by the cache
    if (q->count < kQcacheDepth) {
      q->addr[q->count++] = addr;
      ++stats_.frees;
      return VmemStatus::kOk;
    }
  }
  (void)hash_remove(addr);
  free_range(s);
  ++stats_.frees;
  return VmemStatus::kOk;
}

void VmemArena::reap() {
  for (unsigned i = 0; i < qcache_count_; ++i) {
    Qcache& q = qcaches_[i];
    while (q.count != 0) free_range(hash_remove(q.addr[--q.count]));
  }
}

void VmemArena::destroy() {
  if (config_.pages == nullptr) return;
  for (VmemSegment* t : segments_)
    if (t->kind == Kind::kImportedSpan) (void)config_.source->free(t->start, t->size);
  while (tag_pages_ != nullptr) {
    void* next = *static_cast<void**>(tag_pages_);
    config_.pages->free_page(tag_pages_);
    tag_pages_ = next;
  }
  for (u64 i = 0; i < hash_page_count_; ++i) config_.pages->free_page(hash_pages_[i]);
  // Every tag lived in the pages just returned: forget the lists wholesale.
  new (&segments_) SegList();
  for (FreeList& l : free_lists_) new (&l) FreeList();
  new (&spare_tags_) FreeList();
  freemap_ = 0;
  hash_page_count_ = 0;
  rotor_ = nullptr;
  for (Qcache& q : qcaches_) q.count = 0;
  stats_ = VmemStats{};
}

// ---- Audit -------------------------------------------------------------------------------

const char* VmemArena::check() const {
  if (const char* why = segments_.check()) return why;
  VmemStats seen;
  const VmemSegment* span = nullptr;
  u64 next_addr = 0;  // where the next segment of `span` must start
  bool prev_free = false;
  for (const VmemSegment* t : segments_) {
    if (t->is_span()) {
      if (span != nullptr && next_addr != span->end()) return "vmem.span_not_covered";
      if (span != nullptr && t->start < span->end()) return "vmem.span_overlap";
      if (t->size == 0 || t->end() < t->start) return "vmem.span_size";
      span = t;
      next_addr = t->start;
      prev_free = false;
      seen.span_bytes += t->size;
      ++seen.spans;
      if (t->kind == Kind::kImportedSpan) ++seen.imported_spans;
      continue;
    }
    if (span == nullptr) return "vmem.segment_outside_span";
    if (t->start != next_addr || t->size == 0) return "vmem.segment_gap";
    next_addr = t->end();
    if (next_addr > span->end() || next_addr < t->start) return "vmem.segment_past_span";
    if (t->kind == Kind::kFree) {
      if (prev_free) return "vmem.adjacent_free";
      if (!t->free_link.linked()) return "vmem.free_not_listed";
      ++seen.free_segments;
    } else {
      if (hash_find(t->start) != t) return "vmem.hash_missing";
      seen.alloc_bytes += t->size;
      ++seen.alloc_segments;
    }
    prev_free = t->kind == Kind::kFree;
  }
  if (span != nullptr && next_addr != span->end()) return "vmem.span_not_covered";

  u64 listed = 0;
  for (unsigned k = 0; k < kFreeLists; ++k) {
    if (const char* why = free_lists_[k].check()) return why;
    if (free_lists_[k].empty() == ((freemap_ >> k) & 1)) return "vmem.freemap";
    for (const VmemSegment* s : free_lists_[k])
      if (s->kind != Kind::kFree || list_index(s->size) != k) return "vmem.free_list";
    listed += free_lists_[k].size();
  }
  if (listed != seen.free_segments) return "vmem.free_list_count";

  u64 hashed = 0;
  for (u64 i = 0; i < hash_page_count_; ++i)
    for (u64 b = 0; b < kBucketsPerPage; ++b)
      for (const VmemSegment* s = hash_pages_[i][b]; s != nullptr; s = s->hash_next) {
        if (s->kind != Kind::kAlloc) return "vmem.hash_not_allocated";
        if (++hashed > seen.alloc_segments) return "vmem.hash_count";
      }
  if (hashed != seen.alloc_segments) return "vmem.hash_count";

  for (unsigned i = 0; i < qcache_count_; ++i) {
    const Qcache& q = qcaches_[i];
    if (q.count > kQcacheDepth) return "vmem.qcache_count";
    for (u64 j = 0; j < q.count; ++j) {
      const VmemSegment* s = hash_find(q.addr[j]);
      if (s == nullptr || s->size != (i + 1) * config_.quantum) return "vmem.qcache_not_allocated";
      for (u64 k = 0; k < j; ++k)
        if (q.addr[k] == q.addr[j]) return "vmem.qcache_duplicate";
    }
  }

  if (seen.span_bytes != stats_.span_bytes || seen.spans != stats_.spans ||
      seen.imported_spans != stats_.imported_spans || seen.alloc_bytes != stats_.alloc_bytes ||
      seen.alloc_segments != stats_.alloc_segments || seen.free_segments != stats_.free_segments)
    return "vmem.stats";
  if (rotor_ != nullptr && !rotor_->seg_link.linked()) return "vmem.rotor";
  return nullptr;
}

}  // namespace vm
