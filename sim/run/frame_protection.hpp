// Slab sanity on the host (core/vm/slab_sanity.hpp): the emulated machine's
// RAM is host memory, so a frame the core wants read-only is mprotect()ed,
// and the core's write to it arrives here as SIGSEGV. The handler hands the
// address to the core's SlabSanity, which records the violation and opens
// the frame; returning from the handler lets the write complete, and the
// replay reports the violation at the end of the op.
#pragma once

#include <csignal>
#include <cstdint>

#include "vm/slab_sanity.hpp"

namespace vmsim {

class FrameProtection {
 public:
  // Whether the host can protect 4 KiB frames (its page size is 4 KiB).
  static bool host_supports();

  // Installs the SIGSEGV handler for the RAM [ram, ram + ram_bytes); one
  // instance at a time per process (one run at a time).
  FrameProtection(uint8_t* ram, uint64_t ram_bytes, vm::SlabSanity& sanity);
  // All of RAM writable again (the machine goes back to its pool), and the
  // previous handler back.
  ~FrameProtection();
  FrameProtection(const FrameProtection&) = delete;
  FrameProtection& operator=(const FrameProtection&) = delete;

  void protect(vm::paddr_t pa, bool writable);

 private:
  static void on_segv(int sig, siginfo_t* info, void* context);

  uint8_t* ram_;
  uint64_t ram_bytes_;
  vm::SlabSanity& sanity_;
  struct sigaction previous_ {};
};

}  // namespace vmsim
