#include "lackey/replacement.hpp"

namespace vmsim {

// A doubly linked recency list threaded through arrays indexed by page id,
// most recent at the head: a hit moves its page to the head, a miss with
// memory full drops the tail.
uint64_t lru_misses(const std::vector<uint32_t>& refs, uint64_t distinct, uint64_t capacity) {
  constexpr uint32_t kNil = UINT32_MAX;
  std::vector<uint32_t> prev(distinct, kNil), next(distinct, kNil);
  std::vector<bool> resident(distinct, false);
  uint32_t head = kNil, tail = kNil;
  uint64_t size = 0, misses = 0;
  const auto unlink = [&](uint32_t p) {
    (prev[p] == kNil ? head : next[prev[p]]) = next[p];
    (next[p] == kNil ? tail : prev[next[p]]) = prev[p];
  };
  const auto push_front = [&](uint32_t p) {
    prev[p] = kNil;
    next[p] = head;
    (head == kNil ? tail : prev[head]) = p;
    head = p;
  };
  for (const uint32_t p : refs) {
    if (resident[p]) {
      if (head != p) {
        unlink(p);
        push_front(p);
      }
      continue;
    }
    ++misses;
    if (size == capacity) {
      const uint32_t victim = tail;
      unlink(victim);
      resident[victim] = false;
      --size;
    }
    push_front(p);
    resident[p] = true;
    ++size;
  }
  return misses;
}

namespace {

// A max-heap of the resident pages keyed by their next use, with each
// page's place in it, so that a hit moves its page down in place: the heap
// never holds more than `capacity` pages.
class NextUseHeap {
 public:
  explicit NextUseHeap(uint64_t distinct) : key_(distinct), pos_(distinct, kAbsent) {}
  // Keys are reference positions (uint32_t: a ReferenceString's limit).

  bool contains(uint32_t page) const { return pos_[page] != kAbsent; }
  uint64_t size() const { return heap_.size(); }

  void insert(uint32_t page, uint32_t key) {
    key_[page] = key;
    pos_[page] = heap_.size();
    heap_.push_back(page);
    up(pos_[page]);
  }
  // Keys only grow (the next use of a page just used is later): the page
  // moves towards the top.
  void raise(uint32_t page, uint32_t key) {
    key_[page] = key;
    up(pos_[page]);
  }
  uint32_t pop_max() {
    const uint32_t top = heap_[0];
    place(0, heap_.back());
    heap_.pop_back();
    pos_[top] = kAbsent;
    if (!heap_.empty()) down(0);
    return top;
  }

 private:
  static constexpr uint64_t kAbsent = UINT64_MAX;

  void place(uint64_t at, uint32_t page) {
    heap_[at] = page;
    pos_[page] = at;
  }
  void up(uint64_t at) {
    const uint32_t page = heap_[at];
    while (at > 0 && key_[heap_[(at - 1) / 2]] < key_[page]) {
      place(at, heap_[(at - 1) / 2]);
      at = (at - 1) / 2;
    }
    place(at, page);
  }
  void down(uint64_t at) {
    const uint32_t page = heap_[at];
    for (;;) {
      uint64_t child = 2 * at + 1;
      if (child >= heap_.size()) break;
      if (child + 1 < heap_.size() && key_[heap_[child + 1]] > key_[heap_[child]]) ++child;
      if (key_[heap_[child]] <= key_[page]) break;
      place(at, heap_[child]);
      at = child;
    }
    place(at, page);
  }

  std::vector<uint32_t> key_;
  std::vector<uint64_t> pos_;
  std::vector<uint32_t> heap_;
};

}  // namespace

// Each reference's next use comes from one backward pass; a miss with
// memory full evicts the resident page used farthest ahead (never: the
// farthest of all).
uint64_t opt_misses(const std::vector<uint32_t>& refs, uint64_t distinct, uint64_t capacity) {
  const uint64_t n = refs.size();
  constexpr uint32_t kNever = UINT32_MAX;
  std::vector<uint32_t> next_use(n);
  {
    std::vector<uint32_t> seen(distinct, kNever);
    for (uint64_t i = n; i-- > 0;) {
      next_use[i] = seen[refs[i]];
      seen[refs[i]] = static_cast<uint32_t>(i);
    }
  }
  NextUseHeap resident(distinct);
  uint64_t misses = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t p = refs[i];
    if (resident.contains(p)) {
      resident.raise(p, next_use[i]);
      continue;
    }
    ++misses;
    if (resident.size() == capacity) resident.pop_max();
    resident.insert(p, next_use[i]);
  }
  return misses;
}

}  // namespace vmsim
