// The QEMU command line that boots the port kernel with one trace image
// (docs/port.md, "Booting"; measured in /work/shared/notes/qemu-port.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vmsim::port {

struct QemuSetup {
  std::string qemu;    // qemu-system-x86_64
  std::string bios;    // qboot.rom
  std::string kernel;  // vmsim-kernel.elf (multiboot)
  std::string image;   // the compiled trace, passed as the multiboot module; none if empty
  std::string append;  // the kernel command line (-append), e.g. a stress request
  uint32_t cpus = 1;   // -smp
  uint64_t memory_mib = 256;
  std::string accel = "tcg";  // or "kvm"
  bool gdb = false;           // -s -S: gdb stub on :1234, CPUs stopped until gdb continues
};

std::vector<std::string> qemu_argv(const QemuSetup& setup);

// Guest RAM for a trace: its machine.memory and its image, plus room for the
// kernel itself (code, page tables, heap), at least 256 MiB; then
// `above_kernel`: its machine.swap and its devices' frames (the kernel keeps
// both in RAM above itself).
uint64_t guest_memory_mib(uint64_t trace_memory, uint64_t above_kernel, uint64_t image_bytes);

// One line a shell accepts, for messages ("how to run this by hand").
std::string shell_line(const std::vector<std::string>& argv);

}  // namespace vmsim::port
