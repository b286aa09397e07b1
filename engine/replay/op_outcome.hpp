// What one op did in the core, and the trace's own assertions about it
// (`expect_fault`, `result`, a read's `value`), which need no model.
#pragma once

#include "image/trace_image.hpp"
#include "lib/format.hpp"
#include "lib/types.hpp"
#include "vm/vm.hpp"

namespace replay {

using vm::u64;

struct Outcome {
  vm::Status status = vm::Status::kOk;  // calls
  // Accesses; also kOom for any op whose process was killed there (spec §8).
  vm::Signal signal = vm::Signal::kNone;
  u64 value = 0;  // read: the value; mmap: start; brk: new break; sbrk: old break
  bool has_value = false;
  u64 fault_addr = 0;  // the access that signalled (kOom: the fault that found no frame)
  // cache_get: pageout had run by the op's end, so the block cache may have
  // forgotten the block (the oracle's license for a miss; spec §3, §8).
  bool pressure = false;
};

using Text = vm::FixedString<512>;

// The first way `o` misses what the trace asserts about `op`: its violation
// kind (spec §6), with `message` written; nullptr when it meets them all.
// `label` names op.addr_label (nullptr: none).
const char* check_assertions(const image::ImageOp& op, const char* label, const Outcome& o,
                             Text& message);

// A short description of the op for messages, e.g. "read of 8 bytes at 0x10000".
void describe_op(const image::ImageOp& op, const char* label, Text& out);

}  // namespace replay
