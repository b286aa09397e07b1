// The fixed address-space layout of spec §3, as the generator needs it.
#pragma once

#include <cstdint>

namespace vmsim::tracegen {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kMinMapAddr = 0x10000;             // nothing maps below this
inline constexpr uint64_t kInitialBreak = 0x10000000;        // a new process's break
inline constexpr uint64_t kMmapTop = 0x7f0000000000;         // non-fixed mmaps end at or below
inline constexpr uint64_t kStackTop = 0x7ffffffff000;        // exec's stack ends here
inline constexpr uint64_t kUserEnd = 0x800000000000;         // end of canonical user space
inline constexpr uint64_t kJsonSafeInt = uint64_t{1} << 53;  // above: hex strings

constexpr uint64_t page_down(uint64_t x) {
  return x & ~(kPageSize - 1);
}
constexpr uint64_t page_up(uint64_t x) {
  return (x + kPageSize - 1) & ~(kPageSize - 1);
}
constexpr bool page_aligned(uint64_t x) {
  return (x & (kPageSize - 1)) == 0;
}

}  // namespace vmsim::tracegen
