// The generated traces and the timing of `vmsim bench` and its subcommands
// (sim/cli/bench*.cpp): one thread in one process, its memory at kBase.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trace/trace.hpp"

namespace vmsim::bench_traces {

inline constexpr uint64_t kBase = 0x100000000;  // 2 MiB-aligned: large pages fit

Op make_op(OpKind kind);
Op mmap_op(uint64_t len, bool populate);                 // private anonymous, rw, fixed at kBase
Op touch_op(uint64_t len, uint64_t stride, bool write);  // from kBase
Trace one_thread_trace(std::vector<Op> ops, uint64_t memory);
// One run of `t` without the oracle and the audit, its wall time in
// seconds, and the values of the stats named in `names` (throws when the
// run fails).
double timed_run(const Trace& t, const std::vector<std::string>& names,
                 std::vector<double>* values);

}  // namespace vmsim::bench_traces
