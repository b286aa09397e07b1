// Compiling a trace into the binary image the port kernel replays
// (port/image/trace_image.hpp), by running `vmsim compile TRACE -o
// FILE`: the port runner stays independent of the compiler's internals, and
// the image is exactly what a user gets from the command.
#pragma once

#include <string>

namespace vmsim::port {

struct CompileResult {
  int exit_code = 0;    // vmsim compile's (spec §6); 0 when the image was written
  std::string message;  // vmsim compile's stderr, or why it could not run
};

CompileResult compile_image(const std::string& vmsim_exe, const std::string& trace,
                            const std::string& image);

}  // namespace vmsim::port
