// What an op did, from either side (core or model), and the comparison that
// turns a disagreement into a violation of the right kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/types.hpp"
#include "model/model.hpp"
#include "replay/op_outcome.hpp"
#include "trace/trace.hpp"

namespace vmsim {

// The engine's outcome (engine/replay/op_outcome.hpp), also for the model's side.
struct OpOutcome : replay::Outcome {
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
