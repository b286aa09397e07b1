// Pieces the op generators share (defined in op_generators.cpp): protections,
// access sizes, values, lengths, mmap addresses and the break.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
// Moves the predicted break to `new_break` as brk/sbrk would.
void apply_break(ProcessState& process, uint64_t new_break);
Json yield_op();

}  // namespace vmsim::tracegen
