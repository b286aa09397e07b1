#include "trace/trace.hpp"

namespace vmsim {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kMmap:
      return "mmap";
    case OpKind::kMunmap:
      return "munmap";
    case OpKind::kMprotect:
      return "mprotect";
    case OpKind::kMadvise:
      return "madvise";
    case OpKind::kBrk:
      return "brk";
    case OpKind::kSbrk:
      return "sbrk";
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
    case OpKind::kTouch:
      return "touch";
    case OpKind::kPoke:
      return "poke";
    case OpKind::kFork:
      return "fork";
    case OpKind::kExec:
      return "exec";
    case OpKind::kExit:
      return "exit";
    case OpKind::kTruncate:
      return "truncate";
    case OpKind::kPwrite:
      return "pwrite";
    case OpKind::kCachePut:
      return "cache_put";
    case OpKind::kCacheGet:
      return "cache_get";
    case OpKind::kPageout:
      return "pageout";
    case OpKind::kYield:
      return "yield";
  }
  return "?";
}

const char* expected_result_name(ExpectedResult r) {
  switch (r) {
    case ExpectedResult::kOk:
      return "ok";
    case ExpectedResult::kEnomem:
      return "enomem";
    case ExpectedResult::kEinval:
      return "einval";
    case ExpectedResult::kEfault:
      return "efault";
    case ExpectedResult::kHit:
      return "hit";
    case ExpectedResult::kMiss:
      return "miss";
    case ExpectedResult::kEperm:
      return "eperm";
  }
  return "?";
}

}  // namespace vmsim
