#include "run/op_outcome.hpp"

#include <cstdio>

namespace vmsim {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool is_access(OpKind k) {
  return k == OpKind::kRead || k == OpKind::kWrite || k == OpKind::kTouch;
}

vm::Signal expected_signal(FaultKind k) {
  return k == FaultKind::kSegv  ? vm::Signal::kSegv
         : k == FaultKind::kBus ? vm::Signal::kBus
                                : vm::Signal::kOom;
}

vm::Status expected_status(ExpectedResult r) {
  switch (r) {
    case ExpectedResult::kEnomem:
      return vm::Status::kNoMem;
    case ExpectedResult::kEinval:
      return vm::Status::kInval;
    case ExpectedResult::kEfault:
      return vm::Status::kFault;
    case ExpectedResult::kHit:
      return vm::Status::kHit;
    case ExpectedResult::kMiss:
      return vm::Status::kMiss;
    case ExpectedResult::kEperm:
      return vm::Status::kPerm;
    default:
      return vm::Status::kOk;
  }
}

std::string signal_at(const OpOutcome& o) {
  return std::string(signal_name(o.signal)) + " at " + hex(o.fault_addr);
}

std::optional<Mismatch> compare_access(const Op& op, const OpOutcome& core,
                                       const OpOutcome& model) {
  const std::string what = describe_op(op);
  if (core.signal != model.signal) {
    if (core.signal == vm::Signal::kNone)
      return Mismatch{"missing-fault",
                      what + " completed, but the model ends it with " + signal_at(model)};
    if (model.signal == vm::Signal::kNone)
      return Mismatch{"unexpected-fault",
                      what + " ended with " + signal_at(core) + "; the model completes it"};
    return Mismatch{"unexpected-fault", what + " ended with " + signal_at(core) +
                                            "; the model ends it with " + signal_at(model)};
  }
  // An oom's address is the core's own (the model has no frames to run out of).
  if (core.signal != vm::Signal::kNone && core.signal != vm::Signal::kOom &&
      core.fault_addr != model.fault_addr)
    return Mismatch{"unexpected-fault", what + " ended with " + signal_at(core) +
                                            "; the model faults at " + hex(model.fault_addr)};
  if (op.kind == OpKind::kRead && core.signal == vm::Signal::kNone && core.value != model.value)
    return Mismatch{"read-mismatch",
                    what + " read " + hex(core.value) + "; the model reads " + hex(model.value)};

  if (op.expect_fault) {
    const vm::Signal want = expected_signal(*op.expect_fault);
    if (core.signal == vm::Signal::kNone)
      return Mismatch{"missing-fault", what + " completed; the trace expects " + signal_name(want) +
                                           " (expect_fault)"};
    if (core.signal != want)
      return Mismatch{"unexpected-fault", what + " ended with " + signal_at(core) +
                                              "; the trace expects " + signal_name(want)};
  }
  if (op.kind == OpKind::kRead && op.has_value && core.signal == vm::Signal::kNone &&
      core.value != op.value)
    return Mismatch{"read-mismatch",
                    what + " read " + hex(core.value) + "; the trace expects " + hex(op.value)};
  return std::nullopt;
}

// Calls have no spec kind of their own for a wrong result: a result or a
// placement that differs is a difference of state (docs/result-format.md).
std::optional<Mismatch> compare_call(const Op& op, const OpOutcome& core, const OpOutcome& model) {
  const std::string what = describe_op(op);
  // A call's only fault: its process was killed there for memory (spec §8).
  if (core.signal != model.signal) {
    if (core.signal == vm::Signal::kNone)
      return Mismatch{"missing-fault", what + " returned " + status_name(core.status) +
                                           ", but the model ends it with " +
                                           signal_name(model.signal)};
    return Mismatch{"unexpected-fault", what + " ended with " + signal_name(core.signal) +
                                            "; the model returns " + status_name(model.status)};
  }
  if (core.signal == vm::Signal::kOom) return std::nullopt;
  if (core.status != model.status)
    return Mismatch{"state-mismatch", what + " returned " + status_name(core.status) +
                                          "; the model returns " + status_name(model.status)};
  if (core.has_value && model.has_value && core.value != model.value) {
    const char* noun = op.kind == OpKind::kMmap ? " placed the mapping at " : " returned ";
    return Mismatch{"state-mismatch",
                    what + noun + hex(core.value) + "; the model " + hex(model.value)};
  }
  // Without `result` a failed call is fine when the model fails it alike.
  const vm::Status want = expected_status(op.result);
  if (op.result_given && core.status != want)
    return Mismatch{"state-mismatch", what + " returned " + status_name(core.status) +
                                          "; the trace expects " + status_name(want)};
  if (op.expect_fault)
    return Mismatch{"missing-fault", what + " is not a user access, so it cannot end with " +
                                         signal_name(expected_signal(*op.expect_fault))};
  return std::nullopt;
}

}  // namespace

OpOutcome OpOutcome::from_model(const Op& op, const ModelOutcome& m) {
  OpOutcome o;
  o.status = m.status;
  o.signal = m.signal;
  o.value = m.value;
  o.fault_addr = m.fault_addr;
  switch (op.kind) {
    case OpKind::kMmap:
    case OpKind::kBrk:
    case OpKind::kSbrk:
      o.has_value = m.status == vm::Status::kOk;
      break;
    case OpKind::kRead:
      o.has_value = m.signal == vm::Signal::kNone;
      break;
    default:
      break;
  }
  return o;
}

std::optional<Mismatch> compare_outcomes(const Op& op, const OpOutcome& core,
                                         const OpOutcome& model) {
  return is_access(op.kind) ? compare_access(op, core, model) : compare_call(op, core, model);
}

std::string describe_op(const Op& op) {
  std::string addr =
      op.addr.is_label() ? "@" + op.addr.label + "+" + hex(op.addr.offset) : hex(op.addr.offset);
  switch (op.kind) {
    case OpKind::kRead:
      return "read of " + std::to_string(op.size) + " bytes at " + addr;
    case OpKind::kWrite:
      return "write of " + std::to_string(op.size) + " bytes at " + addr;
    case OpKind::kTouch:
      return std::string("touch (") + (op.touch_write ? "w" : "r") + ") of " + hex(op.len) +
             " bytes at " + addr;
    case OpKind::kMmap:
      return "mmap of " + hex(op.len) + " bytes" + (op.has_addr ? " at " + addr : "");
    case OpKind::kSbrk:
      return "sbrk(" + std::to_string(op.incr) + ")";
    case OpKind::kBrk:
      return "brk(" + addr + ")";
    case OpKind::kCacheGet:
      return "cache_get of block " + std::to_string(op.id) + " into " + addr;
    case OpKind::kFork:
    case OpKind::kExec:
    case OpKind::kExit:
    case OpKind::kYield:
      return op_kind_name(op.kind);
    default:
      return std::string(op_kind_name(op.kind)) + " of " + hex(op.len) + " bytes at " + addr;
  }
}

}  // namespace vmsim
