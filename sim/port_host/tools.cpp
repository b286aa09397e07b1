#include "port_host/tools.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace vmsim::port {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_executable(const fs::path& p) {
  return is_file(p) && access(p.c_str(), X_OK) == 0;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string absolute_path(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  return ec ? p.string() : a.lexically_normal().string();
}

}  // namespace

std::string self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "vmsim" : p.string();
}

Found find_kernel(const std::string& option, const std::string& vmsim_exe) {
  std::string path = option, source = "--kernel";
  if (path.empty() && !env("VMSIM_KERNEL").empty()) {
    path = env("VMSIM_KERNEL");
    source = "VMSIM_KERNEL";
  }
  if (!path.empty()) {
    if (is_file(path)) return {absolute_path(path), ""};
    return {"", source + " " + path + ": no such file (expected the kernel ELF, " + kKernelRelPath +
                    " of a build directory)"};
  }
  const fs::path build = fs::path(vmsim_exe).parent_path();
  const fs::path kernel = build / kKernelRelPath;
  if (is_file(kernel)) return {absolute_path(kernel), ""};
  // vmsim runs from a build directory without the kernel in it: build it
  // there, as `make qemu` would (only when missing: a concurrent build of
  // one directory by parallel tests would race).
  if (is_file(build / "CMakeCache.txt")) {
    const std::string cmd = "cmake --build '" + build.string() + "' --target vmsim-kernel >&2";
    std::fprintf(stderr, "vmsim: no kernel image yet; building it: %s\n", cmd.c_str());
    if (std::system(cmd.c_str()) == 0 && is_file(kernel)) return {absolute_path(kernel), ""};
  }
  std::string how =
      is_file(build / "CMakeCache.txt")
          ? "build it with: cmake --build " + build.string() + " --target vmsim-kernel"
          : "build the CMake target vmsim-kernel";
  return {"", "no kernel image at " + kernel.string() + "; " + how +
                  " (or pass --kernel PATH, or set VMSIM_KERNEL)"};
}

Found find_qemu(const std::string& option) {
  std::string path = option, source = "--qemu";
  if (path.empty() && !env("VMSIM_QEMU").empty()) {
    path = env("VMSIM_QEMU");
    source = "VMSIM_QEMU";
  }
  if (!path.empty()) {
    if (is_executable(path)) return {absolute_path(path), ""};
    return {"", source + " " + path + ": not an executable file (expected qemu-system-x86_64)"};
  }
  const std::string dirs = env("PATH");
  size_t from = 0;
  while (from <= dirs.size()) {
    size_t to = dirs.find(':', from);
    if (to == std::string::npos) to = dirs.size();
    const std::string dir = dirs.substr(from, to - from);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / "qemu-system-x86_64";
    if (is_executable(candidate)) return {absolute_path(candidate), ""};
    from = to + 1;
  }
  return {"",
          "qemu-system-x86_64 not found in PATH; install it (Debian: apt-get install "
          "qemu-system-x86 qemu-system-data, or scripts/install-deps.sh) or pass --qemu PATH"};
}

Found find_bios(const std::string& qemu_path) {
  const std::string forced = env("VMSIM_QEMU_BIOS");
  if (!forced.empty()) {
    if (is_file(forced)) return {absolute_path(forced), ""};
    return {"", "VMSIM_QEMU_BIOS " + forced + ": no such file (expected qboot.rom)"};
  }
  // QEMU's own search path: <prefix>/share/qemu next to its bin directory,
  // then the distribution's.
  std::vector<fs::path> dirs{fs::path(qemu_path).parent_path().parent_path() / "share/qemu",
                             "/usr/share/qemu", "/usr/local/share/qemu"};
  std::string tried;
  for (const fs::path& d : dirs) {
    if (is_file(d / "qboot.rom")) return {absolute_path(d / "qboot.rom"), ""};
    tried += (tried.empty() ? "" : ", ") + d.string();
  }
  return {"", "QEMU firmware qboot.rom not found (looked in " + tried +
                  "); install qemu-system-data, or set VMSIM_QEMU_BIOS to the file"};
}

Found find_kvm() {
  const int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return {"", std::string("--accel kvm: cannot open /dev/kvm: ") + std::strerror(errno)};
  close(fd);
  return {"/dev/kvm", ""};
}

}  // namespace vmsim::port
