// The block cache's ops (--features cache): cache_put of a few pages of a
// private anonymous writable mapping, mostly, and cache_get of an id the
// process may or may not hold, mostly into such a mapping. Some of each go
// where the call must fail (unaligned, a hole, a read-only or shared or
// file mapping) or miss, so that the model checks those answers too.
#include <vector>

#include "access_targets.hpp"
#include "json_forms.hpp"
#include "op_generators.hpp"
#include "op_helpers.hpp"

namespace vmsim::tracegen {
namespace {

constexpr uint64_t kIds = 6;  // ids per process: small, so gets find puts
constexpr uint64_t kMaxBlockPages = 8;

bool holds_blocks(const Region& r) {
  return !r.shared && r.file < 0 && r.writable();
}

// A page-aligned range of 1..kMaxBlockPages pages inside a mapping that can
// take a block; nullopt when the process has none.
std::optional<std::pair<uint64_t, uint64_t>> block_range(GenContext& ctx) {
  std::vector<Region> fit;
  for (const Region& r : ctx.process.shadow.regions())
    if (holds_blocks(r)) fit.push_back(r);
  if (fit.empty()) return std::nullopt;
  const Region& r = ctx.rng.pick(fit);
  const uint64_t pages = r.size() / kPageSize;
  const uint64_t len = ctx.rng.between(1, std::min(pages, kMaxBlockPages));
  const uint64_t first = ctx.rng.below(pages - len + 1);
  return std::make_pair(r.start + first * kPageSize, len * kPageSize);
}

Json generate_cache_put(GenContext& ctx) {
  Json op = {{"op", "cache_put"}, {"id", ctx.rng.below(kIds)}};
  const std::optional<std::pair<uint64_t, uint64_t>> range = block_range(ctx);
  if (!range || ctx.rng.chance(15)) {
    // Anywhere: a hole, a read-only or shared or file mapping, unaligned.
    const RangeChoice any = pick_range(ctx);
    op["addr"] = any.start.json();
    op["len"] = size_json(ctx.rng, any.len);
    return op;
  }
  op["addr"] = address_json(range->first);
  // Lengths that are not page multiples round up.
  op["len"] = range->second - (ctx.rng.chance(20) ? ctx.rng.below(kPageSize) : 0);
  return op;
}

Json generate_cache_get(GenContext& ctx) {
  Json op = {{"op", "cache_get"}, {"id", ctx.rng.below(kIds)}};
  const std::optional<std::pair<uint64_t, uint64_t>> range = block_range(ctx);
  if (!range || ctx.rng.chance(15)) {
    op["addr"] = pick_range(ctx).start.json();
    return op;
  }
  // A hit fills up to kMaxBlockPages pages from here: charge them.
  for (uint64_t page = range->first; page < range->first + kMaxBlockPages * kPageSize;
       page += kPageSize) {
    if (ctx.process.shadow.find(page) != nullptr && !ctx.budget.charge(ctx.process.index, page))
      return yield_op();
  }
  op["addr"] = address_json(range->first);
  return op;
}

}  // namespace

Json generate_cache_op(GenContext& ctx) {
  return ctx.rng.chance(50) ? generate_cache_put(ctx) : generate_cache_get(ctx);
}

}  // namespace vmsim::tracegen
