// vmem: a general allocator of integer ranges (kernel virtual addresses,
// swap slots, identifiers), after Bonwick & Adams, "Magazines and Vmem"
// (USENIX 2001), as in illumos vmem.c and FreeBSD subr_vmem.c.
//
// An arena holds spans: ranges given to it with add(), or imported from a
// parent arena when it runs out. Each span is cut into segments, free or
// allocated, and every span and segment is described by a boundary tag:
//
//  - every tag is on the arena's address-ordered list: a span's tag, then
//    the segments that cover it exactly, in address order, then the next
//    span (spans never overlap);
//  - a free segment of size s is also on freelist[k] with 2^k <= s < 2^(k+1),
//    and bit k of freemap is set while that list is not empty. Instant fit
//    takes the first segment of the first non-empty list at or above
//    ceil(log2 s): one bit scan, constant time, and every segment there fits;
//  - an allocated segment is also in a hash by its start, so free() finds
//    its tag in constant time from the address alone;
//  - no two free segments of one span are adjacent (free() coalesces).
//
// Sizes up to qcache_max are served from quantum caches first: small
// per-size stacks of freed ranges, kept allocated in the arena, so that the
// common small sizes neither search nor fragment the free lists.
//
// Locking (c, caller): the arena takes no lock. Its owner serializes every
// call with the lock that guards the resource the arena hands out, and says
// which one next to the arena.
//
// Bookkeeping (tags, hash buckets) lives in pages taken from a
// VmemPageSource and kept until destroy().
#pragma once

#include "lib/list.hpp"
#include "lib/types.hpp"

namespace vm {

// Where an arena gets pages for its own bookkeeping.
class VmemPageSource {
 public:
  // A page of kPageSize bytes, aligned to kPageSize; nullptr when none.
  virtual void* alloc_page() = 0;
  virtual void free_page(void* page) = 0;

 protected:
  ~VmemPageSource() = default;
};

enum class VmemPolicy : u8 {
  kInstantFit,  // constant time: a segment from the first list that must fit
  kBestFit,     // the smallest free segment that fits (lowest address on ties)
  kNextFit,     // the first fit after the previous allocation, wrapping around
};

enum class VmemStatus : u8 {
  kOk,
  kNoSpace,  // no free range satisfies the request (and none could be imported)
  kNoTags,   // the page source gave no page for bookkeeping
  kInvalid,  // bad size or constraints
};

// Constraints of xalloc(); zero means "none" for every field.
struct VmemConstraints {
  u64 align = 0;    // power of two, multiple of the quantum: start % align == phase
  u64 phase = 0;    // a multiple of the quantum below align; 0 without align
  u64 nocross = 0;  // power of two: [start, start+size) crosses no multiple of it
  u64 min_addr = 0;
  u64 max_addr = 0;  // exclusive: start + size <= max_addr
};

struct VmemStats {
  u64 span_bytes = 0;   // total of all spans
  u64 alloc_bytes = 0;  // allocated (quantum-cached ranges included)
  u64 spans = 0;
  u64 free_segments = 0;
  u64 alloc_segments = 0;
  u64 imported_spans = 0;
  u64 allocs = 0;
  u64 frees = 0;
  u64 failures = 0;
  u64 qcache_hits = 0;
};

// One boundary tag.
struct VmemSegment {
  enum class Kind : u8 { kFree, kAlloc, kSpan, kImportedSpan };

  u64 start = 0;
  u64 size = 0;
  Kind kind = Kind::kFree;
  ListNode seg_link;                 // the arena's address-ordered list
  ListNode free_link;                // freelist[k] when free; the spare-tag list when unused
  VmemSegment* hash_next = nullptr;  // allocated: next in its hash bucket

  u64 end() const { return start + size; }
  bool is_span() const { return kind == Kind::kSpan || kind == Kind::kImportedSpan; }
};

class VmemArena {
 public:
  static constexpr unsigned kFreeLists = 64;
  static constexpr unsigned kMaxQcaches = 16;     // sizes quantum .. 16 quanta
  static constexpr unsigned kQcacheDepth = 32;    // ranges kept per size
  static constexpr unsigned kMaxHashPages = 256;  // up to 128 Ki buckets

  struct Config {
    const char* name = "vmem";
    u64 quantum = 1;              // power of two; every size and address is a multiple
    u64 qcache_max = 0;           // sizes up to this (rounded to quanta, at most
                                  // kMaxQcaches quanta) use quantum caches; 0: none
    VmemArena* source = nullptr;  // parent to import spans from; nullptr: none
    u64 import_quantum = 0;       // spans are imported in multiples of this
    VmemPageSource* pages = nullptr;
  };

  constexpr VmemArena() = default;
  VmemArena(const VmemArena&) = delete;
  VmemArena& operator=(const VmemArena&) = delete;

  // kInvalid for a quantum that is not a power of two, or no page source.
  VmemStatus init(const Config& config);
  // Adds [base, base+size) as a span. Both multiples of the quantum, size
  // above zero, no overlap with a span already here (kInvalid otherwise).
  VmemStatus add(u64 base, u64 size);

  // `size` is rounded up to the quantum.
  VmemStatus alloc(u64 size, VmemPolicy policy, u64* out);
  VmemStatus xalloc(u64 size, const VmemConstraints& c, VmemPolicy policy, u64* out);
  // Frees [addr, addr+size) allocated by alloc() or xalloc() with that size.
  // kInvalid (and nothing changes) when it is not such a range.
  VmemStatus free(u64 addr, u64 size);

  // Gives every quantum-cached range back to the arena.
  void reap();
  // Returns imported spans to the source and every bookkeeping page to the
  // page source. Allocated ranges are forgotten.
  void destroy();

  // Audit: nullptr, or the name of the first broken invariant (spans
  // ascending and disjoint, segments covering each span exactly, no
  // adjacent free segments, free lists and bitmap exact, every allocated
  // segment found by the hash, quantum caches hold allocated ranges only,
  // stats equal to what the tags say).
  const char* check() const;

  const char* name() const { return config_.name; }
  u64 quantum() const { return config_.quantum; }
  const VmemStats& stats() const { return stats_; }

 private:
  using SegList = List<VmemSegment, &VmemSegment::seg_link>;
  using FreeList = List<VmemSegment, &VmemSegment::free_link>;

  struct Qcache {
    u64 count = 0;
    u64 addr[kQcacheDepth] = {};
  };

  // Boundary tags.
  bool reserve_tags(unsigned n);
  VmemSegment* take_tag();
  void put_tag(VmemSegment* t);

  // Free lists.
  static unsigned list_index(u64 size);
  void insert_free(VmemSegment* s);
  void remove_free(VmemSegment* s);

  // The hash of allocated segments.
  bool grow_hash();
  VmemSegment** bucket(u64 start) const;
  void hash_insert(VmemSegment* s);
  VmemSegment* hash_remove(u64 start);
  VmemSegment* hash_find(u64 start) const;

  // Finding and cutting.
  bool fits(const VmemSegment* s, u64 size, const VmemConstraints& c, u64* start) const;
  VmemSegment* find(u64 size, const VmemConstraints& c, VmemPolicy policy, bool constrained,
                    u64* start);
  VmemSegment* find_instant(u64 size);
  VmemSegment* find_in_lists(u64 size, const VmemConstraints& c, bool best, u64* start);
  VmemSegment* find_next(u64 size, const VmemConstraints& c, u64* start);
  u64 carve(VmemSegment* s, u64 start, u64 size);
  VmemStatus add_span(u64 base, u64 size, VmemSegment::Kind kind);
  VmemStatus import(u64 size, const VmemConstraints& c);
  VmemStatus alloc_range(u64 size, const VmemConstraints& c, VmemPolicy policy, bool constrained,
                         u64* out);
  void free_range(VmemSegment* s);
  void release_span_if_empty(VmemSegment* s);

  Qcache* qcache_for(u64 size);

  Config config_;
  SegList segments_;                 // every tag, in address order (spans before segments)
  FreeList free_lists_[kFreeLists];  // free segments by size class
  u64 freemap_ = 0;                  // bit k: free_lists_[k] is not empty
  FreeList spare_tags_;              // tags ready for use
  void* tag_pages_ = nullptr;        // pages of tags, linked through their first word
  VmemSegment** hash_pages_[kMaxHashPages] = {};
  u64 hash_page_count_ = 0;       // a power of two (0 before the first allocation)
  VmemSegment* rotor_ = nullptr;  // next fit resumes here (a tag on segments_, or nullptr)
  Qcache qcaches_[kMaxQcaches];
  unsigned qcache_count_ = 0;
  VmemStats stats_;
};

}  // namespace vm
