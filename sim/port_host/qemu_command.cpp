#include "port_host/qemu_command.hpp"

#include <algorithm>

namespace vmsim::port {

std::vector<std::string> qemu_argv(const QemuSetup& s) {
  std::vector<std::string> a{s.qemu, "-machine", "q35", "-accel", s.accel, "-cpu",
                             // kvm_pvm here refuses QEMU's arch-capabilities MSR
                             // (0x10a); the guest needs none of it (docs/port.md).
                             s.accel == "kvm" ? "max,-arch-capabilities" : "max", "-bios", s.bios,
                             "-m", std::to_string(s.memory_mib) + "M", "-smp",
                             std::to_string(std::max<uint32_t>(s.cpus, 1)), "-nodefaults",
                             "-display", "none", "-no-reboot", "-serial", "stdio", "-device",
                             "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", s.kernel};
  if (!s.image.empty()) {
    a.push_back("-initrd");
    a.push_back(s.image);
  }
  if (!s.append.empty()) {
    a.push_back("-append");
    a.push_back(s.append);
  }
  if (s.gdb) {
    a.push_back("-s");
    a.push_back("-S");
  }
  return a;
}

uint64_t guest_memory_mib(uint64_t trace_memory, uint64_t above_kernel, uint64_t image_bytes) {
  constexpr uint64_t kMiB = 1 << 20;
  constexpr uint64_t kKernelRoom = 128;  // MiB for the kernel, its heap and page tables
  const uint64_t needed = (trace_memory + image_bytes + kMiB - 1) / kMiB + kKernelRoom;
  // The swap device and the devices come on top: they live above the
  // kernel, which sits at 160 MiB whatever machine.memory is
  // (port/x86_64/memory.hpp).
  return std::max<uint64_t>(needed, 256) + (above_kernel + kMiB - 1) / kMiB;
}

std::string shell_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) {
    if (!s.empty()) s += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_./=,:+@%") == std::string::npos;
    if (plain) {
      s += a;
      continue;
    }
    s += '\'';
    for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
    s += '\'';
  }
  return s;
}

}  // namespace vmsim::port
