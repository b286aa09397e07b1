// One function per kind of op the random generator writes, and the weighted
// table that picks among them. Adding an op kind is adding one function and
// one table row in op_generators.cpp.
#pragma once

#include <cstdint>
#include <optional>
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

// The table of the anon feature alone.
const std::vector<OpGeneratorEntry>& op_generators();
// The table for a set of features (Feature bits; anon is always in): the anon
// rows first, in the same order and weights, then those of each feature.
const std::vector<OpGeneratorEntry>& op_generators(uint32_t features);

// Picks an op kind by weight (mapping memory first while the process has
// little of it) and generates it; before that, the ops a thread's place in
// its process's life requires (a planned fork, a final exit).
Json generate_op(GenContext& ctx);

// A planned fork that is due (or, at random, early), or exit as the last op
// of a process's only thread; nullopt otherwise.
std::optional<Json> generate_lifecycle_op(GenContext& ctx);

// --features cache: a cache_put or a cache_get (cache_ops.cpp).
Json generate_cache_op(GenContext& ctx);

Json generate_mmap(GenContext& ctx);
Json generate_munmap(GenContext& ctx);
Json generate_mprotect(GenContext& ctx);
Json generate_madvise(GenContext& ctx);
Json generate_brk(GenContext& ctx);
Json generate_sbrk(GenContext& ctx);
Json generate_read(GenContext& ctx);
Json generate_write(GenContext& ctx);
Json generate_touch(GenContext& ctx);
Json generate_sweep(GenContext& ctx);
Json generate_yield(GenContext& ctx);

// files
Json generate_file_mmap(GenContext& ctx);
Json generate_file_access(GenContext& ctx);  // read or write in a file mapping
Json generate_pwrite(GenContext& ctx);
Json generate_truncate(GenContext& ctx);
// fork (planned forks come from generate_lifecycle_op)
Json generate_threadless_fork(GenContext& ctx);  // a child no thread runs in
// exec
Json generate_exec(GenContext& ctx);
Json generate_image_access(GenContext& ctx);  // read or write in text, data, bss, stack
// poke
Json generate_poke(GenContext& ctx);
// device
Json generate_device_mmap(GenContext& ctx);

}  // namespace vmsim::tracegen
