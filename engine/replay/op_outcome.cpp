#include "replay/op_outcome.hpp"

namespace replay {
namespace {

using namespace image;

bool is_access(ImageOpKind k) {
  return k == ImageOpKind::kRead || k == ImageOpKind::kWrite || k == ImageOpKind::kTouch;
}

vm::Signal expected_signal(ImageFault f) {
  return f == ImageFault::kSegv  ? vm::Signal::kSegv
         : f == ImageFault::kBus ? vm::Signal::kBus
         : f == ImageFault::kOom ? vm::Signal::kOom
                                 : vm::Signal::kNone;
}

vm::Status expected_status(ImageResult r) {
  return r == ImageResult::kEnomem   ? vm::Status::kNoMem
         : r == ImageResult::kEinval ? vm::Status::kInval
         : r == ImageResult::kEfault ? vm::Status::kFault
         : r == ImageResult::kHit    ? vm::Status::kHit
         : r == ImageResult::kMiss   ? vm::Status::kMiss
         : r == ImageResult::kEperm  ? vm::Status::kPerm
                                     : vm::Status::kOk;
}

const char* check_access(const ImageOp& op, const Text& what, const Outcome& o, Text& m) {
  const vm::Signal want = expected_signal(op.expect_fault);
  if (want != vm::Signal::kNone) {
    if (o.signal == vm::Signal::kNone) {
      m << what.c_str() << " completed; the trace expects " << vm::signal_name(want)
        << " (expect_fault)";
      return "missing-fault";
    }
    if (o.signal != want) {
      m << what.c_str() << " ended with " << vm::signal_name(o.signal) << " at "
        << vm::Hex{o.fault_addr} << "; the trace expects " << vm::signal_name(want);
      return "unexpected-fault";
    }
  }
  if (op.kind == ImageOpKind::kRead && (op.flags & kHasValue) && o.signal == vm::Signal::kNone &&
      o.value != op.value) {
    m << what.c_str() << " read " << vm::Hex{o.value} << "; the trace expects "
      << vm::Hex{op.value};
    return "read-mismatch";
  }
  return nullptr;
}

// Calls have no spec kind of their own for a wrong result: a result that
// differs is a difference of state (docs/result-format.md). A call ends
// with a fault only when it ran out of memory (spec §8).
const char* check_call(const ImageOp& op, const Text& what, const Outcome& o, Text& m) {
  if (op.expect_fault == ImageFault::kOom) {
    if (o.signal == vm::Signal::kOom) return nullptr;
    m << what.c_str() << " returned " << vm::status_name(o.status)
      << "; the trace expects oom (expect_fault)";
    return "missing-fault";
  }
  const vm::Status want = expected_status(op.result);
  if ((op.flags & kResultGiven) && o.status != want) {
    m << what.c_str() << " returned " << vm::status_name(o.status) << "; the trace expects "
      << vm::status_name(want);
    return "state-mismatch";
  }
  if (op.expect_fault != ImageFault::kNone) {
    m << what.c_str() << " is not a user access, so it cannot end with "
      << vm::signal_name(expected_signal(op.expect_fault));
    return "missing-fault";
  }
  return nullptr;
}

}  // namespace

const char* check_assertions(const ImageOp& op, const char* label, const Outcome& o,
                             Text& message) {
  Text what;
  describe_op(op, label, what);
  return is_access(op.kind) ? check_access(op, what, o, message) : check_call(op, what, o, message);
}

void describe_op(const ImageOp& op, const char* label, Text& out) {
  Text addr;
  if (label != nullptr) addr << "@" << label << "+";
  addr << vm::Hex{op.addr};
  switch (op.kind) {
    case ImageOpKind::kRead:
      out << "read of " << op.size << " bytes at " << addr.c_str();
      return;
    case ImageOpKind::kWrite:
      out << "write of " << op.size << " bytes at " << addr.c_str();
      return;
    case ImageOpKind::kTouch:
      out << "touch (" << ((op.flags & kTouchWrite) ? "w" : "r") << ") of " << vm::Hex{op.len}
          << " bytes at " << addr.c_str();
      return;
    case ImageOpKind::kMmap:
      out << "mmap of " << vm::Hex{op.len} << " bytes";
      if (op.flags & kHasAddr) out << " at " << addr.c_str();
      return;
    case ImageOpKind::kSbrk:
      out << "sbrk(" << op.incr << ")";
      return;
    case ImageOpKind::kBrk:
      out << "brk(" << addr.c_str() << ")";
      return;
    case ImageOpKind::kCacheGet:
      out << "cache_get of block " << op.id << " into " << addr.c_str();
      return;
    case ImageOpKind::kFork:
    case ImageOpKind::kExec:
    case ImageOpKind::kExit:
    case ImageOpKind::kYield:
      out << kImageOpNames[static_cast<size_t>(op.kind)];
      return;
    default:
      out << kImageOpNames[static_cast<size_t>(op.kind)] << " of " << vm::Hex{op.len}
          << " bytes at " << addr.c_str();
  }
}

}  // namespace replay
