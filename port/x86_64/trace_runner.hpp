// Replays a compiled trace on the core, the way sim/run/runner.cpp does it
// with the model switched off: ops run whole, one at a time, on the physical
// CPU that hosts the thread's `cpu`; only the trace's own assertions
// (`value`, `expect_fault`, `result`), the audit and the leak check can fail
// a run. Prints the result JSON line and returns the exit code.
#pragma once

#include "console.hpp"
#include "image/trace_image_reader.hpp"

namespace port {

ExitCode run_trace(const vmsim::image::ImageReader& image);

}  // namespace port
