// The features of the trace format this vmsim runs. A trace that uses a
// feature still to come is refused (exit 2) before anything runs, rather
// than replayed with part of its meaning missing.
#include "run/error_text.hpp"
#include "run/runner.hpp"

namespace vmsim {
namespace {

bool op_supported(const Op& op) {
  switch (op.kind) {
    case OpKind::kMmap:
    case OpKind::kPwrite:
    case OpKind::kTruncate:
    case OpKind::kMunmap:
    case OpKind::kMprotect:
    case OpKind::kMadvise:
    case OpKind::kBrk:
    case OpKind::kSbrk:
    case OpKind::kRead:
    case OpKind::kWrite:
    case OpKind::kTouch:
    case OpKind::kYield:
    case OpKind::kFork:
    case OpKind::kExit:
    case OpKind::kExec:
    case OpKind::kPoke:
    case OpKind::kPageout:
    case OpKind::kCachePut:
    case OpKind::kCacheGet:
      return true;
    default:
      return false;
  }
}

RunError unsupported(const Trace& t, SourceLoc loc, const std::string& path,
                     const std::string& what) {
  return RunError{2, error_at(t.file, loc, path, what + " is not supported yet by this vmsim")};
}

}  // namespace

std::optional<RunError> check_supported(const Trace& trace) {
  for (const ThreadSpec& t : trace.threads) {
    for (const Op& op : t.ops) {
      if (op_supported(op)) continue;
      const std::string what = op.kind == OpKind::kMmap
                                   ? std::string("a file mapping")
                                   : std::string("op \"") + op_kind_name(op.kind) + "\"";
      return unsupported(trace, op.loc, op.path, what);
    }
  }
  return std::nullopt;
}

}  // namespace vmsim
