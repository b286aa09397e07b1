#include "access_targets.hpp"

#include <algorithm>
#include <vector>

namespace vmsim::tracegen {

namespace {

constexpr uint64_t kLargeRegion = 64 * kPageSize;
constexpr uint64_t kMaxSpanGap = 64ull << 20;  // spanning ranges cross holes up to this size

uint64_t align_down(uint64_t x, uint64_t alignment) {
  return x & ~(alignment - 1);
}

}  // namespace

uint64_t pick_offset(Prng& rng, uint64_t len, uint32_t size) {
  if (len < size) return 0;
  const uint64_t roll = rng.below(100);
  if (roll < 10) return 0;
  if (roll < 22) return align_down(len - size, size);
  if (len > kLargeRegion) {
    const uint64_t page = rng.below(len / kPageSize) * kPageSize;
    return align_down(page + rng.below(kPageSize), size);
  }
  return align_down(rng.below(len - size + 1), size);
}

namespace {

Target absolute(uint64_t address, uint64_t room) {
  Target target;
  target.address = address;
  target.room = room;
  return target;
}

Target through_label(const LabelInfo& label, uint64_t offset) {
  Target target;
  target.address = label.start + offset;
  target.label = label.name;
  target.offset = offset;
  target.room = offset < label.len ? label.len - offset : 0;
  return target;
}

std::vector<Region> regions_where(const AddressShadow& shadow, bool (*keep)(const Region&)) {
  std::vector<Region> out;
  for (const Region& region : shadow.regions()) {
    if (keep(region)) out.push_back(region);
  }
  return out;
}

bool suits(const Region& region, AccessIntent intent) {
  return intent == AccessIntent::kWrite ? region.writable() : region.readable();
}

// Inside memory the shadow says is mapped, and usually allows the access:
// through one of the thread's labels, or by absolute address.
std::optional<Target> pick_mapped(GenContext& ctx, uint32_t size, AccessIntent intent) {
  Prng& rng = ctx.rng;
  const AddressShadow& shadow = ctx.process.shadow;
  const bool must_suit = rng.chance(90);
  if (!ctx.thread.labels.empty() && rng.chance(45)) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      const LabelInfo& label = rng.pick(ctx.thread.labels);
      const Target target = through_label(label, pick_offset(rng, label.len, size));
      const Region* region = shadow.find(target.address);
      if (region != nullptr && (!must_suit || suits(*region, intent))) return target;
    }
  }
  std::vector<Region> candidates;
  if (must_suit) {
    for (const Region& region : shadow.regions()) {
      if (suits(region, intent)) candidates.push_back(region);
    }
  }
  if (candidates.empty()) candidates = shadow.regions();
  if (candidates.empty()) return std::nullopt;
  const Region& region = rng.pick(candidates);
  const uint64_t offset = pick_offset(rng, region.size(), size);
  return absolute(region.start + offset, region.size() - offset);
}

uint64_t in_gap(Prng& rng, const Gap& gap, uint32_t size) {
  const uint64_t span = gap.end - gap.start;
  const uint64_t near = std::min<uint64_t>(span, 16 * kPageSize);
  const uint64_t roll = rng.below(3);
  uint64_t address;
  if (roll == 0) {
    address = gap.start + rng.below(near);
  } else if (roll == 1) {
    address = gap.end - 1 - rng.below(near);
  } else {
    address = gap.start + rng.below(span);
  }
  return align_down(address, size);
}

// A hole of the process's address space (the space above the mmap area when
// the shadow has none below it).
Gap pick_gap(Prng& rng, const AddressShadow& shadow) {
  const std::vector<Gap> gaps = shadow.gaps();
  if (gaps.empty()) return Gap{kMmapTop, kStackTop};
  return rng.pick(gaps);
}

Target pick_unmapped(GenContext& ctx, uint32_t size, AccessIntent intent) {
  Prng& rng = ctx.rng;
  const AddressShadow& shadow = ctx.process.shadow;
  switch (rng.below(7)) {
    case 0:  // below 0x10000, where nothing is ever mapped
      return absolute(align_down(rng.below(kMinMapAddr), size), 0);
    case 1:  // at or above the stack top
      return absolute(align_down(kStackTop + rng.below(kUserEnd - kStackTop), size), 0);
    case 2: {  // PROT_NONE memory
      auto none = regions_where(shadow, [](const Region& r) { return r.prot == 0; });
      if (none.empty()) break;
      const Region& region = rng.pick(none);
      const uint64_t offset = pick_offset(rng, region.size(), size);
      return absolute(region.start + offset, region.size() - offset);
    }
    case 3: {  // writes to read-only memory
      if (intent != AccessIntent::kWrite) break;
      auto read_only =
          regions_where(shadow, [](const Region& r) { return r.prot && !r.writable(); });
      if (read_only.empty()) break;
      const Region& region = rng.pick(read_only);
      const uint64_t offset = pick_offset(rng, region.size(), size);
      return absolute(region.start + offset, region.size() - offset);
    }
    case 4: {  // just past the end of one of the thread's labels
      if (ctx.thread.labels.empty()) break;
      const LabelInfo& label = rng.pick(ctx.thread.labels);
      return through_label(label, align_down(label.len + rng.below(2 * kPageSize), size));
    }
    case 5: {  // just past the end of a region
      if (shadow.empty()) break;
      const Region region = rng.pick(shadow.regions());
      return absolute(align_down(region.end + rng.below(kPageSize), size), 0);
    }
    default:
      break;
  }
  // A hole between mappings.
  const Gap gap = pick_gap(rng, shadow);
  return absolute(in_gap(rng, gap, size), 0);
}

}  // namespace

Json Target::json() const {
  if (!label.empty()) return label_ref(label, offset);
  return address_json(address);
}

Target pick_location(GenContext& ctx, uint32_t size, AccessIntent intent) {
  if (ctx.rng.chance(86)) {
    if (auto target = pick_mapped(ctx, size, intent)) return *target;
  }
  return pick_unmapped(ctx, size, intent);
}

std::optional<Target> charge_or_fallback(GenContext& ctx, const Target& target, uint32_t size) {
  if (ctx.budget.charge(ctx.process.index, target.address)) return target;
  const auto page = ctx.budget.random_charged_page(ctx.rng, ctx.process.index);
  if (!page) return std::nullopt;
  return absolute(*page + align_down(ctx.rng.below(kPageSize), size), 0);
}

std::optional<Target> pick_access_target(GenContext& ctx, uint32_t size, AccessIntent intent) {
  return charge_or_fallback(ctx, pick_location(ctx, size, intent), size);
}

RangeChoice pick_range(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const AddressShadow& shadow = ctx.process.shadow;
  const std::vector<Region> regions = shadow.regions();
  RangeChoice choice;
  const uint64_t roll = rng.below(100);

  if (!ctx.thread.labels.empty() && roll < 15) {
    // Part of a labelled mapping, possibly running past its end.
    const LabelInfo& label = rng.pick(ctx.thread.labels);
    const uint64_t pages = label.len / kPageSize;
    const uint64_t first = rng.below(pages);
    const uint64_t count = rng.between(1, pages - first + (rng.chance(20) ? 2 : 0));
    choice.start = through_label(label, first * kPageSize);
    choice.len = count * kPageSize;
  } else if (regions.empty() || roll < 25) {
    // Wholly inside a hole.
    const Gap gap = pick_gap(rng, shadow);
    const uint64_t start = page_down(in_gap(rng, gap, 1));
    const uint64_t room = std::max<uint64_t>((gap.end - start) / kPageSize, 1);
    choice.start = absolute(start, 0);
    choice.len = rng.between(1, std::min<uint64_t>(room, 16)) * kPageSize;
  } else {
    const size_t index = rng.below(regions.size());
    const Region& region = regions[index];
    const uint64_t pages = region.size() / kPageSize;
    if (roll < 40) {
      // The whole region.
      choice.start = absolute(region.start, region.size());
      choice.len = region.size();
    } else if (roll < 60 && index + 1 < regions.size() &&
               regions[index + 1].start - region.end <= kMaxSpanGap) {
      // From inside this region, across the hole, into the next one.
      const Region& next = regions[index + 1];
      const uint64_t first = rng.below(pages);
      const uint64_t start = region.start + first * kPageSize;
      const uint64_t end = next.start + rng.between(1, next.size() / kPageSize) * kPageSize;
      choice.start = absolute(start, region.end - start);
      choice.len = end - start;
    } else if (roll < 70) {
      // The tail of the region and a little past its end.
      const uint64_t first = rng.below(pages);
      const uint64_t start = region.start + first * kPageSize;
      choice.start = absolute(start, region.end - start);
      choice.len = (pages - first + rng.between(1, 4)) * kPageSize;
    } else {
      // A part of the region.
      const uint64_t first = rng.below(pages);
      const uint64_t limit = pages - first;
      const uint64_t count =
          limit > 64 && rng.chance(70) ? rng.between(1, 64) : rng.between(1, limit);
      const uint64_t start = region.start + first * kPageSize;
      choice.start = absolute(start, region.end - start);
      choice.len = count * kPageSize;
    }
  }

  if (choice.len > kPageSize && rng.chance(20)) {
    choice.len -= rng.between(1, kPageSize - 1);  // rounded up to whole pages again
  }
  if (rng.chance(3)) {  // an unaligned start: einval
    const uint64_t shift = rng.between(1, kPageSize - 1);
    choice.start.address += shift;
    choice.start.offset += shift;
  }
  return choice;
}

}  // namespace vmsim::tracegen
