#include "op_generators.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "access_targets.hpp"
#include "op_helpers.hpp"

namespace vmsim::tracegen {

namespace {

constexpr uint64_t kSmallMapPages = 16;
constexpr uint64_t kMaxTouchSteps = 256;
constexpr uint64_t kSweepMinPages = 32;  // a mapping a sweep goes over
constexpr uint64_t kSweepPercent = 12;   // of a pressure trace's ops
constexpr uint64_t kMaxWillneedPages = 64;
constexpr size_t kManyRegions = 96;  // above this, unmap whole regions more often

}  // namespace

uint8_t prot_bits(const std::string& letters) {
  uint8_t bits = 0;
  for (char c : letters) {
    if (c == 'r') bits |= kProtR;
    if (c == 'w') bits |= kProtW;
    if (c == 'x') bits |= kProtX;
  }
  return bits;
}

// Protections in the spec's letter form, in varied letter orders.
std::string pick_prot(Prng& rng) {
  struct Choice {
    const char* letters;
    uint32_t weight;
  };
  static const Choice kChoices[] = {
      {"rw", 40}, {"r", 14}, {"", 8},   {"rx", 8}, {"wr", 6},  {"rwx", 5},
      {"w", 5},   {"x", 4},  {"xr", 3}, {"wx", 3}, {"xwr", 3}, {"rxw", 2},
  };
  uint32_t total = 0;
  for (const Choice& choice : kChoices) total += choice.weight;
  uint64_t roll = rng.below(total);
  for (const Choice& choice : kChoices) {
    if (roll < choice.weight) return choice.letters;
    roll -= choice.weight;
  }
  return "rw";
}

uint32_t pick_access_size(Prng& rng) {
  static const std::vector<uint32_t> kSizes = {1, 2, 4, 8};
  return rng.pick(kSizes);
}

// A value that fits in `size` bytes, often an edge value.
uint64_t pick_value(Prng& rng, uint32_t size) {
  const uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
  const uint64_t roll = rng.below(100);
  if (roll < 20) return rng.below(256) & mask;
  if (roll < 28) return mask;
  if (roll < 33) return 0;
  if (roll < 43 && size == 8) {
    static const std::vector<uint64_t> kEdges = {kJsonSafeInt - 1, kJsonSafeInt, kJsonSafeInt + 1,
                                                 1ull << 63, (1ull << 63) - 1};
    return rng.pick(kEdges);
  }
  return rng.next() & mask;
}

uint64_t pick_small_len(Prng& rng) {
  const uint64_t pages = rng.chance(50) ? rng.between(1, 4) : rng.between(1, kSmallMapPages);
  uint64_t len = pages * kPageSize;
  if (rng.chance(15)) len -= rng.between(1, kPageSize - 1);
  return len;
}

namespace {

uint64_t pick_large_len(Prng& rng) {
  static const std::vector<uint64_t> kRound = {64ull << 20, 128ull << 20, 256ull << 20,
                                               512ull << 20, 1ull << 30};
  if (rng.chance(60)) return rng.pick(kRound);
  return rng.between(2048, (1ull << 30) / kPageSize) * kPageSize;
}

// A page of `gap` within 64 pages of its start or of its end.
uint64_t near_gap_edge(Prng& rng, const Gap& gap) {
  const uint64_t pages = (gap.end - gap.start) / kPageSize;
  const uint64_t page = rng.below(std::min<uint64_t>(pages, 64));
  return rng.chance(50) ? gap.start + page * kPageSize : gap.end - (page + 1) * kPageSize;
}

}  // namespace

// A hint for a non-fixed mmap: just above the heap (so brk later runs into
// it), in a hole, on an occupied address (ignored), anywhere, or below 0x10000
// (ignored).
uint64_t pick_hint(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const uint64_t roll = rng.below(100);
  if (roll < 15) return page_up(ctx.process.brk) + rng.between(0, 8) * kPageSize;
  if (roll < 60 || ctx.process.shadow.empty()) {
    const std::vector<Gap> gaps = ctx.process.shadow.gaps();
    if (!gaps.empty()) return near_gap_edge(rng, rng.pick(gaps));
  }
  if (roll < 85 && !ctx.process.shadow.empty()) {
    return rng.pick(ctx.process.shadow.regions()).start;
  }
  if (roll < 95) return page_down(rng.between(kMinMapAddr, kMmapTop - 1));
  return page_down(rng.below(kMinMapAddr));
}

MappingPlace pick_mapping_place(GenContext& ctx, uint64_t rounded, uint64_t fixed_below,
                                bool* valid) {
  MappingPlace place;
  const uint64_t mode = ctx.rng.below(100);
  if (mode < 20) {
    place.addr = pick_hint(ctx);
  } else if (mode < fixed_below) {
    place.addr = pick_fixed_addr(ctx, rounded);
    place.fixed = place.addr.has_value();
  }
  if (*valid)
    place.start = place.fixed ? place.addr : ctx.process.shadow.place(rounded, place.addr);
  if (!place.start) *valid = false;
  return place;
}

void maybe_bind_label(GenContext& ctx, Json& op, bool valid, std::optional<uint64_t> start,
                      uint64_t len, uint32_t percent, MappedFile file) {
  if (!valid || !ctx.rng.chance(percent)) return;
  LabelInfo label;
  label.name = "m" + std::to_string(ctx.next_label++);
  label.start = *start;
  label.len = len;
  label.file = file.file;
  label.file_offset = file.offset;
  op["as"] = label.name;
  ctx.thread.labels.push_back(label);
}

void shadow_map(ProcessState& process, uint64_t start, uint64_t len, const std::string& prot,
                bool shared, MappedFile file) {
  Region region;
  region.start = start;
  region.end = start + len;
  region.prot = prot_bits(prot);
  region.shared = shared;
  region.file = file.file;
  region.file_offset = file.offset;
  process.shadow.map(region);
}

// A valid place for a fixed mmap of `len` (page multiple), usually on top of
// something already mapped; nullopt if none fits below 0x7f0000000000.
std::optional<uint64_t> pick_fixed_addr(GenContext& ctx, uint64_t len) {
  Prng& rng = ctx.rng;
  uint64_t addr;
  if (!ctx.process.shadow.empty() && rng.chance(75)) {
    const Region region = rng.pick(ctx.process.shadow.regions());
    const uint64_t back = rng.chance(30) ? rng.between(1, 4) * kPageSize : 0;
    const uint64_t first = region.start - std::min(back, region.start - kMinMapAddr);
    addr = first + rng.below(region.size() / kPageSize + back / kPageSize) * kPageSize;
  } else if (rng.chance(30)) {
    addr = page_up(ctx.process.brk) + rng.between(0, 8) * kPageSize;
  } else {
    const std::vector<Gap> gaps = ctx.process.shadow.gaps();
    if (gaps.empty()) return std::nullopt;
    addr = near_gap_edge(rng, rng.pick(gaps));
  }
  if (addr < kMinMapAddr || addr > kMmapTop || kMmapTop - addr < len) return std::nullopt;
  return addr;
}

namespace {

// A fixed address that must be refused with einval: below 0x10000 or not
// page-aligned.
uint64_t pick_bad_fixed_addr(GenContext& ctx) {
  Prng& rng = ctx.rng;
  if (rng.chance(50)) return page_down(rng.below(kMinMapAddr));
  uint64_t base = page_up(ctx.process.brk);
  if (!ctx.process.shadow.empty()) base = rng.pick(ctx.process.shadow.regions()).start;
  return base + rng.between(1, kPageSize - 1);
}

}  // namespace

void apply_break(ProcessState& process, uint64_t new_break) {
  if (new_break < process.initial_brk) return;  // einval
  const uint64_t old_end = page_up(process.brk);
  const uint64_t new_end = page_up(new_break);
  if (new_end > old_end) {
    // enomem unless a free page stays before the next mapping (Linux).
    if (!process.shadow.is_free(old_end, new_end + kPageSize)) return;
    Region heap;
    heap.start = old_end;
    heap.end = new_end;
    heap.prot = kProtR | kProtW;
    heap.heap = true;
    process.shadow.map(heap);
  } else if (new_end < old_end) {
    if (process.shadow.is_free(new_end, old_end)) return;  // enomem: nothing to unmap (Linux)
    process.shadow.unmap(new_end, old_end);
  }
  process.brk = new_break;
}

namespace {

// A new break: below the initial one, into the next mapping, up or down.
uint64_t pick_break(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const uint64_t current = ctx.process.brk;
  const uint64_t roll = rng.below(100);
  if (roll < 10) {
    return ctx.process.initial_brk - rng.between(1, 64) * kPageSize + rng.below(kPageSize);
  }
  if (roll < 25) {
    const Region* next = ctx.process.shadow.next_at_or_after(page_up(current));
    if (next != nullptr && !next->heap && next->start - current <= (64ull << 20)) {
      // Into it, or up to the page Linux keeps free before it, or just below.
      if (rng.chance(50)) return next->start + rng.below(next->size());
      const uint64_t edge = next->start - rng.between(0, 2) * kPageSize;
      return std::max(current, edge - rng.below(kPageSize));
    }
  }
  if (roll < 60) return current + rng.between(1, 16) * kPageSize - rng.below(kPageSize);
  if (roll < 85) return rng.between(ctx.process.initial_brk, current);
  return current + rng.between(16, 1024) * kPageSize;
}

}  // namespace

bool charge_populate(GenContext& ctx, uint64_t start, uint64_t len) {
  for (uint64_t page = start; page < start + len; page += kPageSize)
    if (!ctx.budget.charge(ctx.process.index, page)) return false;
  return true;
}

Json mmap_op_head(Prng& rng, std::optional<uint64_t> addr, uint64_t len, const std::string& prot,
                  bool shared) {
  Json op = {{"op", "mmap"}};
  if (addr) op["addr"] = address_json(*addr);
  op["len"] = size_json(rng, len);
  op["prot"] = prot;
  op["share"] = shared ? "shared" : "private";
  return op;
}

Json access_op(Prng& rng, const Target& target, uint32_t size, bool write) {
  Json op = {{"op", write ? "write" : "read"}};
  op["addr"] = target.json();
  if (size != 1 || rng.chance(50)) op["size"] = size;
  if (write) op["value"] = value_json(rng, pick_value(rng, size));
  return op;
}

Json yield_op() {
  return Json{{"op", "yield"}};
}

namespace {

// Unmaps one whole region: keeps long traces from piling up mappings (and the
// generator from slowing down with them).
Json unmap_whole_region(GenContext& ctx) {
  const Region region = ctx.rng.pick(ctx.process.shadow.regions());
  ctx.process.shadow.unmap(region.start, region.end);
  return Json{{"op", "munmap"},
              {"addr", address_json(region.start)},
              {"len", size_json(ctx.rng, region.size())}};
}

}  // namespace

Json generate_mmap(GenContext& ctx) {
  Prng& rng = ctx.rng;
  ProcessState& process = ctx.process;
  bool valid = true;
  bool large = false;
  uint64_t len;
  const uint64_t size_roll = rng.below(100);
  if (size_roll < 2) {
    len = 0;  // einval
    valid = false;
  } else if (size_roll < 6) {
    len = pick_large_len(rng);
    large = true;
  } else if ((ctx.trace.features & kFeatureHugepage) != 0 && size_roll < 30) {
    // Whole 2 MiB multiples: placed at the top of a free gap, they start on
    // a 2 MiB boundary whenever the gap ends on one.
    len = rng.between(1, 3) * kHugeSize;
  } else if ((ctx.trace.features & kFeaturePressure) != 0 && size_roll < 40) {
    len = rng.between(64, 512) * kPageSize;  // room for working sets larger than memory
  } else {
    len = pick_small_len(rng);
  }
  const uint64_t rounded = page_up(len);
  const std::string prot = pick_prot(rng);
  const bool shared = rng.chance(25);

  std::optional<uint64_t> addr;
  bool fixed = false;
  const uint64_t mode = rng.below(100);
  if (mode >= 55 && mode < 75) {
    addr = pick_hint(ctx);
  } else if (mode >= 75 && mode < 94 && !large) {
    addr = pick_fixed_addr(ctx, std::max<uint64_t>(rounded, kPageSize));
    fixed = addr.has_value();
  } else if (mode >= 94 && !large) {
    addr = pick_bad_fixed_addr(ctx);
    fixed = true;
    valid = false;
  }

  std::optional<uint64_t> start;
  if (valid) start = fixed ? addr : process.shadow.place(rounded, addr);
  if (!start) valid = false;

  bool populate = false;
  if (valid && rounded <= kSmallMapPages * kPageSize && rng.chance(15)) {
    populate = charge_populate(ctx, *start, rounded);
  }

  Json op = mmap_op_head(rng, addr, len, prot, shared);
  if (fixed) {
    op["fixed"] = true;
  } else if (addr && rng.chance(10)) {
    op["fixed"] = false;
  }
  if (populate) {
    op["populate"] = true;
  } else if (rng.chance(5)) {
    op["populate"] = false;
  }
  maybe_bind_label(ctx, op, valid, start, rounded, 60);
  if (valid) shadow_map(process, *start, rounded, prot, shared);
  return op;
}

Json generate_munmap(GenContext& ctx) {
  const RangeChoice range = pick_range(ctx);
  Json op = {{"op", "munmap"}};
  op["addr"] = range.start.json();
  op["len"] = size_json(ctx.rng, range.len);
  if (range.aligned()) ctx.process.shadow.unmap(range.start.address, range.end());
  return op;
}

Json generate_mprotect(GenContext& ctx) {
  const RangeChoice range = pick_range(ctx);
  const std::string prot = pick_prot(ctx.rng);
  Json op = {{"op", "mprotect"}};
  op["addr"] = range.start.json();
  op["len"] = size_json(ctx.rng, range.len);
  op["prot"] = prot;
  AddressShadow& shadow = ctx.process.shadow;
  if (range.aligned() && shadow.is_fully_mapped(range.start.address, range.end())) {
    shadow.protect(range.start.address, range.end(), prot_bits(prot));
  }
  return op;
}

Json generate_madvise(GenContext& ctx) {
  const RangeChoice range = pick_range(ctx);
  bool willneed = ctx.rng.chance(40);
  if (willneed) {
    // WILLNEED may read pages in: charge every mapped page it covers, and
    // fall back to DONTNEED when that is too much.
    const uint64_t start = page_down(range.start.address);
    if (page_up(range.len) / kPageSize > kMaxWillneedPages) willneed = false;
    for (uint64_t page = start; willneed && page < start + page_up(range.len); page += kPageSize) {
      if (ctx.process.shadow.find(page) != nullptr && !ctx.budget.charge(ctx.process.index, page)) {
        willneed = false;
      }
    }
  }
  Json op = {{"op", "madvise"}};
  op["addr"] = range.start.json();
  op["len"] = size_json(ctx.rng, range.len);
  op["advice"] = willneed ? "willneed" : "dontneed";
  // Large-page advice changes nothing a trace sees (spec §9).
  if ((ctx.trace.features & kFeatureHugepage) != 0 && ctx.rng.chance(35))
    op["advice"] = ctx.rng.chance(75) ? "hugepage" : "nohugepage";
  return op;
}

Json generate_brk(GenContext& ctx) {
  const uint64_t new_break = pick_break(ctx);
  apply_break(ctx.process, new_break);
  return Json{{"op", "brk"}, {"addr", address_json(new_break)}};
}

Json generate_sbrk(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const uint64_t current = ctx.process.brk;
  int64_t incr;
  if (rng.chance(10)) {
    incr = 0;
  } else if (rng.chance(10)) {
    // Below the initial break: einval.
    incr = -static_cast<int64_t>(current - ctx.process.initial_brk) -
           static_cast<int64_t>(rng.between(1, 16 * kPageSize));
  } else {
    const uint64_t target = pick_break(ctx);
    incr = static_cast<int64_t>(target) - static_cast<int64_t>(current);
  }
  apply_break(ctx.process, current + static_cast<uint64_t>(incr));
  return Json{{"op", "sbrk"}, {"incr", incr}};
}

Json generate_read(GenContext& ctx) {
  const uint32_t size = pick_access_size(ctx.rng);
  const auto target = pick_access_target(ctx, size, AccessIntent::kRead);
  if (!target) return yield_op();
  Json op = {{"op", "read"}};
  op["addr"] = target->json();
  if (size != 1 || ctx.rng.chance(50)) op["size"] = size;
  return op;
}

Json generate_write(GenContext& ctx) {
  const uint32_t size = pick_access_size(ctx.rng);
  const auto target = pick_access_target(ctx, size, AccessIntent::kWrite);
  if (!target) return yield_op();
  Json op = {{"op", "write"}};
  op["addr"] = target->json();
  if (size != 1 || ctx.rng.chance(50)) op["size"] = size;
  op["value"] = value_json(ctx.rng, pick_value(ctx.rng, size));
  return op;
}

Json generate_touch(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const bool write = rng.chance(50);
  Target base = pick_location(ctx, 1, write ? AccessIntent::kWrite : AccessIntent::kRead);
  if (rng.chance(50)) {  // start on a page boundary
    const uint64_t shift = base.address - page_down(base.address);
    if (base.label.empty() || base.offset >= shift) {
      base.address -= shift;
      base.offset -= base.label.empty() ? 0 : shift;
      base.room += base.room ? shift : 0;
    }
  }

  uint64_t len;
  uint64_t stride = kPageSize;
  bool explicit_stride = true;
  const bool pressure = (ctx.trace.features & kFeaturePressure) != 0;
  if (pressure && base.room >= 32 * kPageSize && rng.chance(40)) {
    // Dense over many pages: the working set that pushes others out.
    len = std::min(base.room, rng.between(32, kMaxTouchSteps) * kPageSize);
  } else if (base.room >= 256 * kPageSize && rng.chance(60)) {
    // Sparse over a large mapping.
    len = rng.between(base.room / 4, base.room);
    const uint64_t steps = rng.between(2, 32);
    stride = page_up((len + steps - 1) / steps);
  } else {
    len = pick_small_len(rng);
    if (base.room > 0 && !rng.chance(20)) len = std::min(len, base.room);
    const uint64_t roll = rng.below(100);
    if (roll < 50) {
      explicit_stride = rng.chance(50);
    } else if (roll < 80) {
      static const std::vector<uint64_t> kSubPage = {1, 8, 64, 256, 512, 1024, 2048};
      stride = rng.pick(kSubPage);
      len = std::min(len, stride * kMaxTouchSteps);
    } else {
      static const std::vector<uint64_t> kMultiPage = {8192, 12288, 16384, 65536};
      stride = rng.pick(kMultiPage);
    }
  }

  // Charge the page of every step; stop the touch where the budget runs out.
  const uint64_t steps = (len + stride - 1) / stride;
  uint64_t charged = 0;
  while (charged < steps && ctx.budget.charge(ctx.process.index, base.address + charged * stride)) {
    ++charged;
  }
  if (charged == 0) {
    const auto page = ctx.budget.random_charged_page(rng, ctx.process.index);
    if (!page) return yield_op();
    base = Target{};
    base.address = *page;
    len = rng.between(1, kPageSize);
    stride = kPageSize;
  } else if (charged < steps) {
    len = charged * stride;
  }

  Json op = {{"op", "touch"}};
  op["addr"] = base.json();
  op["len"] = size_json(rng, len);
  op["access"] = write ? "w" : "r";
  if (explicit_stride || stride != kPageSize) op["stride"] = stride;
  if (write && rng.chance(60)) op["value"] = rng.below(256);
  return op;
}

// Pressure (spec §8): a write over a large writable mapping, page after
// page, until the budget runs out. Random touches reach a working set of
// about memory's size; sweeps make it several times memory, so that pageout
// and swap-in run all through a trace, not only near its end.
Json generate_sweep(GenContext& ctx) {
  Prng& rng = ctx.rng;
  std::vector<Region> large;
  for (const Region& region : ctx.process.shadow.regions())
    if (region.writable() && region.size() >= kSweepMinPages * kPageSize) large.push_back(region);
  if (large.empty()) return generate_mmap(ctx);
  const Region& region = rng.pick(large);
  const uint64_t pages = region.size() / kPageSize;
  const uint64_t first = rng.chance(50) ? 0 : rng.below(pages / 2);
  const uint64_t steps = std::min(pages - first, kMaxTouchSteps);
  const uint64_t start = region.start + first * kPageSize;
  uint64_t charged = 0;
  while (charged < steps && ctx.budget.charge(ctx.process.index, start + charged * kPageSize))
    ++charged;
  if (charged == 0) return yield_op();
  Json op = {{"op", "touch"}, {"addr", address_json(start)}};
  op["len"] = size_json(rng, charged * kPageSize);
  op["access"] = "w";
  op["value"] = rng.below(256);
  return op;
}

Json generate_yield(GenContext&) {
  return yield_op();
}

const std::vector<OpGeneratorEntry>& op_generators() {
  return op_generators(kFeatureAnon);
}

const std::vector<OpGeneratorEntry>& op_generators(uint32_t features) {
  static const std::vector<std::vector<OpGeneratorEntry>> kTables = [] {
    const std::vector<OpGeneratorEntry> anon = {
        {"mmap", 11, generate_mmap},        {"munmap", 5, generate_munmap},
        {"mprotect", 6, generate_mprotect}, {"madvise", 4, generate_madvise},
        {"brk", 3, generate_brk},           {"sbrk", 3, generate_sbrk},
        {"read", 26, generate_read},        {"write", 26, generate_write},
        {"touch", 10, generate_touch},      {"yield", 4, generate_yield},
    };
    struct FeatureRows {
      uint32_t feature;
      std::vector<OpGeneratorEntry> rows;
    };
    const std::vector<FeatureRows> extra = {
        {kFeatureFiles,
         {{"mmap", 7, generate_file_mmap},
          {"read", 12, generate_file_access},
          {"pwrite", 3, generate_pwrite},
          {"truncate", 3, generate_truncate}}},
        {kFeatureFork, {{"fork", 2, generate_threadless_fork}}},
        {kFeatureExec, {{"exec", 2, generate_exec}, {"read", 6, generate_image_access}}},
        {kFeaturePoke, {{"poke", 6, generate_poke}}},
    };
    const FeatureRows device = {kFeatureDevice, {{"mmap", 6, generate_device_mmap}}};
    // Indexed by the "all" bits, plus kAllFeatures + 1 with devices.
    std::vector<std::vector<OpGeneratorEntry>> tables(2 * (kAllFeatures + 1));
    for (uint32_t features = 0; features <= kAllFeatures; ++features) {
      tables[features] = anon;
      for (const FeatureRows& rows : extra) {
        if (features & rows.feature) {
          tables[features].insert(tables[features].end(), rows.rows.begin(), rows.rows.end());
        }
      }
      tables[features + kAllFeatures + 1] = tables[features];
      tables[features + kAllFeatures + 1].insert(tables[features + kAllFeatures + 1].end(),
                                                 device.rows.begin(), device.rows.end());
    }
    return tables;
  }();
  const uint32_t devices = (features & kFeatureDevice) != 0 ? kAllFeatures + 1 : 0;
  return kTables[(features & kAllFeatures) + devices];
}

namespace {

constexpr uint64_t kTop = 0x7ffffffff000;  // the top of user space

// One op with an edge value (kFeatureEdges); each is checked against the
// model by replay and against the kernel by `vmsim linux --compare`.
Json generate_edge(GenContext& ctx) {
  Prng& rng = ctx.rng;
  const uint64_t k = rng.between(1, 3);
  switch (rng.below(6)) {
    case 0: {  // a file range at 2^63 - 1, just inside or past it
      if (ctx.trace.files.empty()) break;
      const FileState& file = ctx.trace.files[rng.below(ctx.trace.files.size())];
      Json op = mmap_op_head(rng, std::nullopt, k * kPageSize, "r", rng.chance(50));
      op["file"] = file.name;
      op["offset"] = address_json((uint64_t{1} << 63) - rng.between(k, k + 1) * kPageSize);
      return op;
    }
    case 1: {  // a length that wraps past 2^64 (or nearly)
      const uint64_t addr = ctx.process.shadow.empty()
                                ? kTop - k * kPageSize
                                : rng.pick(ctx.process.shadow.regions()).start;
      const uint64_t len = (uint64_t{0} - addr) - kPageSize + rng.between(0, 2 * kPageSize);
      const uint64_t roll = rng.below(3);
      Json op = {{"op", roll == 0 ? "munmap" : roll == 1 ? "mprotect" : "madvise"}};
      op["addr"] = address_json(addr);
      op["len"] = address_json(len);
      if (roll == 1) op["prot"] = "r";
      if (roll == 2) op["advice"] = "dontneed";
      return op;
    }
    case 2: {  // a fixed mapping at the top, fitting or running past it, maybe unaligned
      const uint64_t addr = kTop - k * kPageSize + (rng.chance(20) ? rng.between(1, 64) : 0);
      const uint64_t len = rng.between(k - 1, k + 1) * kPageSize + kPageSize / 2;
      if (addr % kPageSize == 0 && len <= k * kPageSize) {
        Region region;
        region.start = addr;
        region.end = addr + page_up(len);
        region.prot = kProtR | kProtW;
        ctx.process.shadow.unmap(region.start, region.end);
        ctx.process.shadow.map(region);
      }
      Json op = mmap_op_head(rng, addr, len, "rw", false);
      op["fixed"] = true;
      return op;
    }
    case 3: {  // mprotect or madvise from a mapping up past the top
      const uint64_t addr = kTop - k * kPageSize;
      Json op = {{"op", rng.chance(50) ? "mprotect" : "madvise"}};
      op["addr"] = address_json(addr);
      op["len"] = address_json(rng.between(k, k + 2) * kPageSize);
      if (op["op"] == "mprotect") {
        op["prot"] = rng.chance(50) ? "r" : "rw";
      } else {
        op["advice"] = "dontneed";
      }
      return op;
    }
    case 4: {  // an access at the top, past it, or in the kernel half
      const uint64_t addrs[] = {
          kTop - 8,       kTop, uint64_t{1} << 47, uint64_t{1} << 63, 0xffffffffff600000ull,
          uint64_t{0} - 8};
      const uint64_t addr = addrs[rng.below(6)];
      Json op = {
          {"op", rng.chance(50) ? "read" : "write"}, {"addr", address_json(addr)}, {"size", 8}};
      if (op["op"] == "write") op["value"] = rng.below(256);
      return op;
    }
    default:
      break;
  }
  // brk to just below, at, or just past the page before the next mapping.
  const Region* next = ctx.process.shadow.next_at_or_after(page_up(ctx.process.brk));
  if (next == nullptr || next->heap || next->start - ctx.process.brk > (64ull << 20))
    return generate_brk(ctx);
  const uint64_t target = next->start - kPageSize * rng.between(0, 2) + rng.between(0, 1);
  apply_break(ctx.process, target);
  return Json{{"op", "brk"}, {"addr", address_json(target)}};
}

}  // namespace

Json generate_op(GenContext& ctx) {
  if ((ctx.trace.features & kFeatureEdges) && ctx.rng.chance(6)) return generate_edge(ctx);
  if (ctx.trace.features != kFeatureAnon) {
    if (std::optional<Json> op = generate_lifecycle_op(ctx)) return *op;
  }
  if ((ctx.trace.features & kFeaturePressure) && ctx.rng.chance(kSweepPercent))
    return generate_sweep(ctx);
  if ((ctx.trace.features & kFeatureCache) && ctx.rng.chance(kCachePercent))
    return generate_cache_op(ctx);
  const size_t mapped = ctx.process.shadow.count();
  if ((mapped == 0 && ctx.rng.chance(70)) || (mapped < 3 && ctx.rng.chance(25))) {
    return generate_mmap(ctx);
  }
  if (mapped > kManyRegions && ctx.rng.chance(30)) return unmap_whole_region(ctx);
  const std::vector<OpGeneratorEntry>& table = op_generators(ctx.trace.features);
  uint64_t total = 0;
  for (const OpGeneratorEntry& entry : table) total += entry.weight;
  uint64_t roll = ctx.rng.below(total);
  for (const OpGeneratorEntry& entry : table) {
    if (roll < entry.weight) return entry.generate(ctx);
    roll -= entry.weight;
  }
  return yield_op();
}

}  // namespace vmsim::tracegen
