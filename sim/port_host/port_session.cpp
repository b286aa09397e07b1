#include "port_host/port_session.hpp"

#include <stdlib.h>

#include <filesystem>

#include "port_host/image_compiler.hpp"
#include "port_host/qemu_command.hpp"

namespace vmsim::port {
namespace {

namespace fs = std::filesystem;

// A private directory for the image, removed at the end unless kept.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/vmsim-port-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty() && !keep_) fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace

namespace {

// Boots QEMU with `image` (may be empty) and `append`, waits, classifies.
// On failure the scratch directory is kept for a rerun by hand.
void boot(const PortTools& tools, const std::string& image, const std::string& append,
          uint64_t image_bytes, const PortSessionOptions& options, ScratchDir* scratch,
          PortSession* session) {
  QemuSetup setup;
  setup.qemu = tools.qemu;
  setup.bios = tools.bios;
  setup.kernel = tools.kernel;
  setup.image = image;
  setup.append = append;
  setup.cpus = options.cpus;
  setup.memory_mib = guest_memory_mib(options.memory, options.swap + options.devices, image_bytes);
  setup.accel = options.accel;
  setup.gdb = options.gdb;
  const std::vector<std::string> argv = qemu_argv(setup);
  if (options.on_start) options.on_start(argv);

  ChildOptions child;
  child.timeout_seconds = options.gdb ? 0 : options.timeout_seconds;
  child.on_line = options.on_line;
  const ChildResult qemu = run_child(argv, child);
  session->qemu_seconds = qemu.seconds;
  session->log = parse_serial(qemu.lines);
  session->outcome = classify(qemu, session->log, options.timeout_seconds);
  if (!session->outcome.failure.empty()) {
    std::string& failure = session->outcome.failure;
    if (scratch != nullptr) {
      // Keep the image so the failure can be reproduced by hand.
      scratch->keep();
      failure += "  image kept in " + image + "; to rerun:\n    ";
    } else {
      failure += "  to rerun:\n    ";
    }
    failure += shell_line(argv) + "\n";
  }
}

}  // namespace

PortSession run_in_port(const PortTools& tools, const std::string& trace,
                        const PortSessionOptions& options) {
  PortSession session;
  ScratchDir scratch;
  if (scratch.path().empty()) {
    session.outcome = {3, "", "cannot create a scratch directory for the trace image (TMPDIR)"};
    return session;
  }
  const std::string image = scratch.path() + "/trace.bin";
  const CompileResult compiled = compile_image(tools.vmsim, trace, image);
  if (compiled.exit_code != 0) {
    session.outcome = {compiled.exit_code, "", compiled.message};
    return session;
  }
  std::error_code ec;
  boot(tools, image, options.sanity ? "sanity" : "", fs::file_size(image, ec), options, &scratch,
       &session);
  return session;
}

PortSession run_stress_in_port(const PortTools& tools, const std::string& append,
                               const PortSessionOptions& options) {
  PortSession session;
  boot(tools, "", append, 0, options, nullptr, &session);
  return session;
}

}  // namespace vmsim::port
