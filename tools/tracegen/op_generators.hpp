// One function per kind of op the random generator writes, and the weighted
// table that picks among them. Adding an op kind is adding one function and
// one table row in op_generators.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "generator_state.hpp"

namespace vmsim::tracegen {

// Writes one op for ctx.thread (as a JSON object whose first key is "op") and
// updates ctx.process's shadow, ctx.thread's labels and the memory budget.
using OpGenerator = Json (*)(GenContext& ctx);

struct OpGeneratorEntry {
  const char* op;   // the spec's name of the op
  uint32_t weight;  // relative frequency
  OpGenerator generate;
};

const std::vector<OpGeneratorEntry>& op_generators();

// Picks an op kind by weight (mapping memory first while the process has
// little of it) and generates it.
Json generate_op(GenContext& ctx);

Json generate_mmap(GenContext& ctx);
Json generate_munmap(GenContext& ctx);
Json generate_mprotect(GenContext& ctx);
Json generate_madvise(GenContext& ctx);
Json generate_brk(GenContext& ctx);
Json generate_sbrk(GenContext& ctx);
Json generate_read(GenContext& ctx);
Json generate_write(GenContext& ctx);
Json generate_touch(GenContext& ctx);
Json generate_yield(GenContext& ctx);

}  // namespace vmsim::tracegen
