// Replays a compiled trace on the core, the way sim/run/runner.cpp does it
// with the model switched off: every trace thread on its own kernel thread,
// on the physical CPU that hosts its `cpu`, one thread at a time, switched at
// yield points, op ends and blocks by the trace's schedule (core/sched/).
// Only the trace's own assertions (`value`, `expect_fault`, `result`), the
// audit, the leak check and a deadlock can fail a run. Prints the result
// JSON line and returns the exit code.
#pragma once

#include "console.hpp"
#include "image/trace_image_reader.hpp"

namespace port {

ExitCode run_trace(const image::ImageReader& image);

}  // namespace port
