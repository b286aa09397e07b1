#include "port_host/image_compiler.hpp"

#include <filesystem>

#include "port_host/child_process.hpp"

namespace vmsim::port {

CompileResult compile_image(const std::string& vmsim_exe, const std::string& trace,
                            const std::string& image) {
  ChildOptions options;
  options.timeout_seconds = 300;
  const ChildResult r = run_child({vmsim_exe, "compile", trace, "-o", image}, options);
  if (!r.started) return {3, "cannot run " + vmsim_exe + " compile: " + r.start_error};
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  if (r.timed_out) return {3, vmsim_exe + " compile " + trace + ": no exit within 300 s"};
  if (r.signal != 0)
    return {3, vmsim_exe + " compile " + trace + ": killed by signal " + std::to_string(r.signal)};
  if (r.exit_status != 0) {
    // A vmsim without the compile command says so through CLI11.
    if (err.find("compile") != std::string::npos && err.find("expected") != std::string::npos)
      err += "\n(this vmsim has no working `compile` command: it cannot build trace images)";
    return {r.exit_status, err.empty() ? "vmsim compile " + trace + " failed" : err};
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(image, ec) || std::filesystem::file_size(image, ec) == 0)
    return {3, vmsim_exe + " compile " + trace + " exited 0 but wrote no image to " + image};
  return {0, ""};
}

}  // namespace vmsim::port
