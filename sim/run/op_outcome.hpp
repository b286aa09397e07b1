// What an op did, from either side (core or model), and the comparison that
// turns a disagreement into a violation of the right kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/types.hpp"
#include "model/model.hpp"
#include "trace/trace.hpp"

namespace vmsim {

struct OpOutcome {
  vm::Status status = vm::Status::kOk;    // calls
  vm::Signal signal = vm::Signal::kNone;  // accesses
  uint64_t value = 0;  // read: the value; mmap: start; brk: new break; sbrk: old break
  bool has_value = false;
  uint64_t fault_addr = 0;     // the access that signalled
  bool out_of_memory = false;  // the signal came from a fault that found no frame

  static OpOutcome from_model(const Op& op, const ModelOutcome& m);
};

struct Mismatch {
  const char* kind;  // a violation kind of spec §6
  std::string message;
};

// The first way the core's outcome differs from the model's or from what the
// trace asserts (`expect_fault`, `result`, a read's `value`); nullopt if none.
std::optional<Mismatch> compare_outcomes(const Op& op, const OpOutcome& core,
                                         const OpOutcome& model);

using vm::signal_name;  // "none", "segv", "bus"
using vm::status_name;  // "ok", "enomem", "einval", "efault"
// A short description of the op for messages, e.g. "read of 8 bytes at 0x10000".
std::string describe_op(const Op& op);

}  // namespace vmsim
