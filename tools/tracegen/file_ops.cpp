// Op generators of the `files` feature: file mmaps, accesses to file pages
// (the partial last page, pages past the end of the file), pwrite, truncate.
// File sizes are predicted in generation order and never exceed
// kMaxFileBytes, whatever order the threads run in, so the page cache
// reserved up front covers every file at its largest.
#include <algorithm>
#include <optional>
#include <string>

#include "access_targets.hpp"
#include "op_generators.hpp"
#include "op_helpers.hpp"

namespace vmsim::tracegen {

namespace {

constexpr uint64_t kMaxFileMapPages = 8;

uint64_t pages_of(uint64_t bytes) {
  return page_up(bytes) / kPageSize;
}

// A file mapping the thread may access: through one of its labels or a region
// of the shadow.
struct FileMapping {
  uint64_t start = 0;
  uint64_t len = 0;
  int32_t file = -1;
  uint64_t file_offset = 0;
  std::string label;  // empty: absolute addresses
};

std::optional<FileMapping> pick_file_mapping(GenContext& ctx) {
  Prng& rng = ctx.rng;
  std::vector<const LabelInfo*> labels;
  for (const LabelInfo& label : ctx.thread.labels) {
    if (label.file >= 0) labels.push_back(&label);
  }
  if (!labels.empty() && rng.chance(50)) {
    const LabelInfo& label = *rng.pick(labels);
    return FileMapping{label.start, label.len, label.file, label.file_offset, label.name};
  }
  std::vector<Region> regions;
  for (const Region& region : ctx.process.shadow.regions()) {
    if (region.file >= 0) regions.push_back(region);
  }
  if (regions.empty()) return std::nullopt;
  const Region& region = rng.pick(regions);
  return FileMapping{region.start, region.size(), region.file, region.file_offset, ""};
}

// An offset into `mapping` for an access of `size` bytes: often in the page
// holding the end of the file (below and above the end) or in a page wholly
// past it.
uint64_t pick_file_access_offset(Prng& rng, const FileMapping& mapping, uint64_t file_size,
                                 uint32_t size) {
  const uint64_t roll = rng.below(100);
  if (roll < 30 && file_size % kPageSize != 0) {
    const uint64_t eof_page = page_down(file_size);
    if (eof_page >= mapping.file_offset && eof_page - mapping.file_offset < mapping.len) {
      const uint64_t page = eof_page - mapping.file_offset;
      const uint64_t tail = file_size % kPageSize;
      uint64_t within;
      if (rng.chance(50)) {
        within = rng.below(tail);  // still inside the file
      } else {
        within = tail + rng.below(kPageSize - tail);  // past the end, same page
      }
      return page + (within & ~uint64_t{size - 1});
    }
  }
  if (roll < 50) {
    const uint64_t past = page_up(file_size);  // first page wholly past the end
    const uint64_t first = past > mapping.file_offset ? past - mapping.file_offset : 0;
    if (first < mapping.len) {
      const uint64_t page = first + rng.below((mapping.len - first) / kPageSize) * kPageSize;
      return page + (rng.below(kPageSize) & ~uint64_t{size - 1});
    }
  }
  return pick_offset(rng, mapping.len, size);
}

}  // namespace

Json generate_file_mmap(GenContext& ctx) {
  Prng& rng = ctx.rng;
  ProcessState& process = ctx.process;
  const uint32_t f = static_cast<uint32_t>(rng.below(ctx.trace.files.size()));
  const FileState& file = ctx.trace.files[f];

  uint64_t offset_pages;
  const uint64_t offset_roll = rng.below(100);
  if (offset_roll < 55) {
    offset_pages = 0;
  } else if (offset_roll < 85) {
    offset_pages = rng.below(pages_of(file.size) + 1);  // up to the page past the end
  } else {
    offset_pages = rng.below(kMaxFilePages + 2);
  }
  uint64_t offset = offset_pages * kPageSize;
  bool valid = true;
  if (rng.chance(7)) {  // an unaligned offset: einval
    offset += rng.between(1, kPageSize - 1);
    valid = false;
  }

  const uint64_t to_end =
      pages_of(file.size) > offset_pages ? pages_of(file.size) - offset_pages : 0;
  uint64_t pages;
  const uint64_t len_roll = rng.below(100);
  if (len_roll < 40 && to_end > 0) {
    pages = to_end;  // exactly to the end of the file
  } else if (len_roll < 75) {
    pages = rng.between(1, 4);
  } else {
    pages = std::min(to_end + rng.between(1, 3), kMaxFileMapPages);  // past the end
  }
  uint64_t len = pages * kPageSize;
  if (rng.chance(15)) len -= rng.between(1, kPageSize - 1);
  const uint64_t rounded = page_up(len);

  const std::string prot = pick_prot(rng);
  const bool shared = rng.chance(50);
  const MappingPlace place = pick_mapping_place(ctx, rounded, 40, &valid);
  const std::optional<uint64_t> addr = place.addr, start = place.start;
  const bool fixed = place.fixed;

  bool populate = false;
  if (valid && rng.chance(12)) {
    populate = charge_populate(ctx, *start, rounded);
  }

  Json op = mmap_op_head(rng, addr, len, prot, shared);
  if (fixed) op["fixed"] = true;
  op["file"] = file.name;
  if (offset != 0 || rng.chance(50)) op["offset"] = size_json(rng, offset);
  if (populate) op["populate"] = true;
  const MappedFile mapped{static_cast<int32_t>(f), offset};
  maybe_bind_label(ctx, op, valid, start, rounded, 60, mapped);
  if (valid) shadow_map(process, *start, rounded, prot, shared, mapped);
  return op;
}

Json generate_file_access(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const std::optional<FileMapping> mapping = pick_file_mapping(ctx);
  if (!mapping) return generate_file_mmap(ctx);
  const uint64_t file_size = ctx.trace.files[mapping->file].size;
  const uint32_t size = pick_access_size(rng);
  const bool write = rng.chance(45);
  const uint64_t offset = pick_file_access_offset(rng, *mapping, file_size, size);

  Target target;
  target.address = mapping->start + offset;
  target.room = offset < mapping->len ? mapping->len - offset : 0;
  if (!mapping->label.empty()) {
    target.label = mapping->label;
    target.offset = offset;
  }
  const std::optional<Target> charged = charge_or_fallback(ctx, target, size);
  if (!charged) return yield_op();
  return access_op(rng, *charged, size, write);
}

Json generate_pwrite(GenContext& ctx) {
  Prng& rng = ctx.rng;
  FileState& file = ctx.trace.files[rng.below(ctx.trace.files.size())];
  uint64_t offset;
  const uint64_t roll = rng.below(100);
  if (roll < 40) {
    offset = rng.below(file.size + 1);  // inside, or right at the end
  } else if (roll < 70) {
    offset = file.size - std::min<uint64_t>(file.size, rng.below(kPageSize));  // near the end
  } else {
    offset = rng.below(kMaxFileBytes);  // maybe past the end: the file grows
  }
  if (offset >= kMaxFileBytes) offset = kMaxFileBytes - 1;
  uint64_t len = rng.chance(40) ? rng.between(1, 64) : rng.between(1, 2 * kPageSize);
  len = std::min(len, kMaxFileBytes - offset);
  file.size = std::max(file.size, offset + len);

  Json op = {{"op", "pwrite"}};
  op["file"] = file.name;
  op["offset"] = size_json(rng, offset);
  op["value"] = rng.below(256);
  op["len"] = size_json(rng, len);
  return op;
}

Json generate_truncate(GenContext& ctx) {
  Prng& rng = ctx.rng;
  FileState& file = ctx.trace.files[rng.below(ctx.trace.files.size())];
  uint64_t size = file.size;
  const uint64_t roll = rng.below(100);
  if (roll < 20) {
    size = 0;
  } else if (roll < 45 && file.size > 0) {
    size = rng.below(file.size);  // shrink
  } else if (roll < 70 && file.size < kMaxFileBytes) {
    size = rng.between(file.size + 1, kMaxFileBytes);  // grow
  } else if (roll < 90) {
    size = rng.between(0, kMaxFilePages - 1) * kPageSize + rng.between(1, kPageSize - 1);
  }  // else: the same size
  file.size = size;
  Json op = {{"op", "truncate"}};
  op["file"] = file.name;
  op["size"] = size_json(rng, size);
  return op;
}

}  // namespace vmsim::tracegen
