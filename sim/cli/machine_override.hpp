// `--memory SIZE`, `--swap SIZE` and `--compressor SIZE`: replay a trace on
// a machine with other RAM, swap or compressor than it declares (and
// `--large-pages`: with other large pages, which must change nothing either), to check that
// pressure changes nothing a trace observes (docs/pressure.md). Sizes are written as in traces
// (spec §1): "1048576", "0x100000", "1MiB".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "trace/trace.hpp"

namespace vmsim {

inline constexpr uint64_t kMiB = 1024 * 1024;
inline constexpr uint64_t kGiB = 1024 * kMiB;
// The limits of each size (the loader's for traces).
inline constexpr uint64_t kMaxMemory = 4 * kGiB;
inline constexpr uint64_t kMaxSwap = 64 * kGiB;

// `text` as a size in [min, max], a page multiple, into `out`; else an error
// message naming `option` and what was expected (exit 2).
std::optional<std::string> read_size(const char* option, const std::string& text, uint64_t min,
                                     uint64_t max, uint64_t* out);

struct MachineOverride {
  std::string memory;  // empty: the trace's own
  std::string swap;
  std::string compressor;
  std::string large_pages;  // `--large-pages never|always|madvise` (spec §9); replay only
};

// The sizes `o` gives, each into its place (an empty one leaves it as it
// is); an error message (exit 2) for a malformed or out-of-range size.
std::optional<std::string> read_machine_override(const MachineOverride& o, uint64_t* memory,
                                                 uint64_t* swap, uint64_t* compressor);

// Applies `o` to `trace`; an error message (exit 2) naming the option and
// what was expected when a size is malformed or out of range.
std::optional<std::string> apply_machine_override(const MachineOverride& o, Trace& trace);

}  // namespace vmsim
