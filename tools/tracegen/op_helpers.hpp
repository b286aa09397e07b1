// Pieces the op generators share (defined in op_generators.cpp): protections,
// access sizes, values, lengths, mmap addresses and the break.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "access_targets.hpp"
#include "generator_state.hpp"

namespace vmsim::tracegen {

// ProtLetters of a protection in letter form.
uint8_t prot_bits(const std::string& letters);
// A protection in the spec's letter form, in varied letter orders.
std::string pick_prot(Prng& rng);
// 1, 2, 4 or 8.
uint32_t pick_access_size(Prng& rng);
// A value that fits in `size` bytes, often an edge value.
uint64_t pick_value(Prng& rng, uint32_t size);
// 1..16 pages, sometimes not a page multiple.
uint64_t pick_small_len(Prng& rng);
// A hint for a non-fixed mmap (see op_generators.cpp).
uint64_t pick_hint(GenContext& ctx);
// A valid place for a fixed mmap of `len` (page multiple); nullopt if none.
std::optional<uint64_t> pick_fixed_addr(GenContext& ctx, uint64_t len);
// Where a file or device mmap goes: a hint (a fifth of the time), a fixed
// address (until `fixed_below` of 100), else the highest fit. `start` is
// where it lands; a mapping with no place is not valid.
struct MappingPlace {
  std::optional<uint64_t> addr;  // the op's `addr`
  bool fixed = false;
  std::optional<uint64_t> start;
};
MappingPlace pick_mapping_place(GenContext& ctx, uint64_t rounded, uint64_t fixed_below,
                                bool* valid);
// What a file mapping maps: the generator's file index (-1: none) and the
// file offset of its start.
struct MappedFile {
  int32_t file = -1;
  uint64_t offset = 0;
};
// With `percent` chance, a valid mapping at `start` gets a new label (the
// op's `as`), which later ops of the thread may use.
void maybe_bind_label(GenContext& ctx, Json& op, bool valid, std::optional<uint64_t> start,
                      uint64_t len, uint32_t percent, MappedFile file = {});
// A valid mapping of [start, start + len) in the process's shadow.
void shadow_map(ProcessState& process, uint64_t start, uint64_t len, const std::string& prot,
                bool shared, MappedFile file = {});
// Moves the predicted break to `new_break` as brk/sbrk would.
void apply_break(ProcessState& process, uint64_t new_break);
Json yield_op();
// Charges every page of [start, start+len) that `populate` makes resident;
// false at the first page the budget refuses (those before stay charged).
bool charge_populate(GenContext& ctx, uint64_t start, uint64_t len);
// The keys every mmap op starts with: op, addr (if any), len, prot, share.
Json mmap_op_head(Prng& rng, std::optional<uint64_t> addr, uint64_t len, const std::string& prot,
                  bool shared);
// A read or write of `size` bytes at an already charged target.
Json access_op(Prng& rng, const Target& target, uint32_t size, bool write);

}  // namespace vmsim::tracegen
