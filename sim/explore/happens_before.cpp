#include "explore/happens_before.hpp"

#include <algorithm>

namespace vmsim::explore {

HappensBefore::HappensBefore(const std::vector<Segment>& segments, size_t races_from,
                             size_t races_to)
    : segments_(segments) {
  const size_t n = segments.size();
  for (const Segment& s : segments) threads_ = std::max(threads_, s.thread + 1);
  seq_.resize(n);
  clock_.assign(n * threads_, 0);
  foata_.assign(n, 0);
  std::vector<uint32_t> count(threads_, 0);
  std::vector<long> last(threads_, -1);  // each thread's latest segment so far
  for (size_t j = 0; j < n; ++j) {
    const size_t tj = segments[j].thread;
    seq_[j] = count[tj]++;
    uint32_t* clock_j = clock(j);
    if (last[tj] >= 0) std::copy_n(clock(static_cast<size_t>(last[tj])), threads_, clock_j);
    // Latest first: a segment already ordered before j through a later one
    // is not a race, and its clock adds nothing.
    for (size_t i = j; i-- > 0;) {
      const size_t ti = segments[i].thread;
      if (ti == tj || seq_[i] < clock_j[ti]) continue;
      if (!segments[i].footprint.conflicts(segments[j].footprint)) continue;
      if (j >= races_from && j < races_to) races_.push_back({i, j});
      const uint32_t* clock_i = clock(i);
      for (size_t t = 0; t < threads_; ++t) clock_j[t] = std::max(clock_j[t], clock_i[t]);
    }
    clock_j[tj] = seq_[j] + 1;
    last[tj] = static_cast<long>(j);
  }
  // Foata levels: a segment sits one above the deepest segment before it
  // (levels grow along each thread, so each thread's latest one suffices).
  std::vector<std::vector<size_t>> of_thread(threads_);
  for (size_t j = 0; j < n; ++j) of_thread[segments[j].thread].push_back(j);
  for (size_t j = 0; j < n; ++j) {
    uint32_t level = 0;
    for (size_t t = 0; t < threads_; ++t) {
      uint32_t c = clock(j)[t];
      if (t == segments[j].thread) --c;  // not j itself
      if (c > 0) level = std::max(level, foata_[of_thread[t][c - 1]]);
    }
    foata_[j] = level + 1;
  }
}

std::vector<size_t> HappensBefore::initials(const Race& race) const {
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> first(threads_, kNone);  // each thread's first segment in the sequence
  std::vector<size_t> out;
  auto consider = [&](size_t k) {
    const size_t tk = segments_[k].thread;
    if (first[tk] != kNone) return;
    first[tk] = k;
    for (size_t t = 0; t < threads_; ++t)
      if (t != tk && first[t] != kNone && before(first[t], k)) return;
    out.push_back(tk);
  };
  for (size_t k = race.i + 1; k < race.j; ++k)
    if (!before(race.i, k)) consider(k);
  consider(race.j);
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t HappensBefore::class_hash() const {
  std::vector<std::pair<uint32_t, size_t>> normal;  // (Foata level, thread)
  normal.reserve(segments_.size());
  for (size_t j = 0; j < segments_.size(); ++j) normal.push_back({foata_[j], segments_[j].thread});
  std::sort(normal.begin(), normal.end());
  uint64_t h = 1469598103934665603ull;  // FNV-1a over (level, thread) pairs
  for (const auto& [level, thread] : normal) {
    h = (h ^ level) * 1099511628211ull;
    h = (h ^ thread) * 1099511628211ull;
  }
  return h;
}

}  // namespace vmsim::explore
