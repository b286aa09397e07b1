// Op generators of the `device` feature (spec §10): device mmaps by
// privileged and unprivileged processes, in range and past the device's end.
// A valid one lands in the shadow as shared memory with a label, so the
// anon generators' reads, writes, touches, mprotects, madvises, munmaps and
// pokes reach device pages too, and forks share them.
#include <optional>
#include <string>

#include "op_generators.hpp"
#include "op_helpers.hpp"

namespace vmsim::tracegen {

Json generate_device_mmap(GenContext& ctx) {
  Prng& rng = ctx.rng;
  ProcessState& process = ctx.process;
  if (ctx.trace.devices.empty()) return yield_op();
  const DeviceState& device = ctx.trace.devices[rng.below(ctx.trace.devices.size())];

  // Mostly within the device; sometimes at or past its end (einval), or
  // unaligned (einval).
  bool valid = process.privileged;
  uint64_t offset_pages = rng.below(device.pages);
  uint64_t pages = rng.between(1, device.pages - offset_pages);
  if (rng.chance(15)) {
    offset_pages = rng.between(device.pages - 1, device.pages + 1);
    pages = rng.between(1, 2);
    if (offset_pages + pages > device.pages) valid = false;
  }
  uint64_t offset = offset_pages * kPageSize;
  if (rng.chance(5)) {
    offset += rng.between(1, kPageSize - 1);
    valid = false;
  }
  uint64_t len = pages * kPageSize;
  if (rng.chance(15)) len -= rng.between(1, kPageSize - 1);
  const uint64_t rounded = page_up(len);

  const std::string prot = pick_prot(rng);
  const MappingPlace place = pick_mapping_place(ctx, rounded, 35, &valid);
  const std::optional<uint64_t> addr = place.addr, start = place.start;
  const bool fixed = place.fixed;

  Json op = mmap_op_head(rng, addr, len, prot, /*shared=*/true);
  if (fixed) op["fixed"] = true;
  op["device"] = device.name;
  if (offset != 0 || rng.chance(50)) op["offset"] = size_json(rng, offset);
  if (valid && rng.chance(10)) op["populate"] = true;  // device frames cost no RAM
  maybe_bind_label(ctx, op, valid, start, rounded, 70);
  if (valid) shadow_map(process, *start, rounded, prot, /*shared=*/true);
  return op;
}

}  // namespace vmsim::tracegen
