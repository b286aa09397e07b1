// Finding what a port run needs on this machine: QEMU, its qboot firmware,
// the kernel image, and the vmsim binary that compiles trace images. Each
// lookup says what it tried and how to get the missing piece.
#pragma once

#include <string>

namespace vmsim::port {

inline constexpr const char* kKernelRelPath = "port/x86_64/vmsim-kernel.elf";

struct Found {
  std::string path;   // empty when not found
  std::string error;  // what was tried and what to do, when not found
  bool ok() const { return !path.empty(); }
};

// The running program, from /proc/self/exe.
std::string self_exe();

// `option` (--kernel), else $VMSIM_KERNEL, else kKernelRelPath under the
// directory of `vmsim_exe` (the build directory).
Found find_kernel(const std::string& option, const std::string& vmsim_exe);

// `option` (--qemu), else $VMSIM_QEMU, else qemu-system-x86_64 in PATH.
Found find_qemu(const std::string& option);

// $VMSIM_QEMU_BIOS, else qboot.rom in QEMU's data directories.
Found find_bios(const std::string& qemu_path);

// Whether /dev/kvm can be opened for reading and writing; else why not.
Found find_kvm();

}  // namespace vmsim::port
