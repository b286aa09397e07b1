// Basic vocabulary of the freestanding VM core: integer widths, addresses,
// protections and the result codes every layer returns (the core has no
// exceptions; errors are values).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace vm {

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i64 = int64_t;

using vaddr_t = u64;  // a virtual address
using paddr_t = u64;  // a physical address
using pfn_t = u64;    // a physical frame number (paddr >> kPageShift)

inline constexpr u64 kPageShift = 12;
inline constexpr u64 kPageSize = u64{1} << kPageShift;
inline constexpr u64 kPageMask = kPageSize - 1;

constexpr u64 page_trunc(u64 x) {
  return x & ~kPageMask;
}
constexpr u64 page_round(u64 x) {
  return (x + kPageMask) & ~kPageMask;
}
constexpr bool page_aligned(u64 x) {
  return (x & kPageMask) == 0;
}

// Protection a mapping asks for. x86 lets any present page be read, so
// Write and Exec imply readable at the MMU; the mapping keeps what was asked.
enum Prot : u8 {
  kProtNone = 0,
  kProtRead = 1,
  kProtWrite = 2,
  kProtExec = 4,
};
constexpr Prot operator|(Prot a, Prot b) {
  return static_cast<Prot>(u8(a) | u8(b));
}

enum class Share : u8 { kPrivate, kShared };

// The kind of a user access, as the fault handler needs it.
enum class Access : u8 { kRead, kWrite, kExec };

// What a system call returns (spec §3 `result`).
// kHit and kMiss are cache_get's results (spec §3), never errors.
enum class Status : u8 { kOk, kNoMem, kInval, kFault, kPerm, kHit, kMiss };

// How a user access ends when it cannot complete (spec §3 `expect_fault`).
// kOom is no hardware signal: the op needed memory nothing could free, and
// its process was killed there (spec §8); calls can end with it too.
enum class Signal : u8 { kNone, kSegv, kBus, kOom };

// The names the trace format and the results use for them, on both machines.
constexpr const char* status_name(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kNoMem:
      return "enomem";
    case Status::kInval:
      return "einval";
    case Status::kFault:
      return "efault";
    case Status::kPerm:
      return "eperm";
    case Status::kHit:
      return "hit";
    case Status::kMiss:
      return "miss";
  }
  return "?";
}

constexpr const char* signal_name(Signal s) {
  switch (s) {
    case Signal::kNone:
      return "none";
    case Signal::kSegv:
      return "segv";
    case Signal::kBus:
      return "bus";
    case Signal::kOom:
      return "oom";
  }
  return "?";
}

}  // namespace vm
