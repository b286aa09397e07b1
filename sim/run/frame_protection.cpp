#include "run/frame_protection.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "vm/slab_sanity.hpp"

namespace vmsim {
namespace {

FrameProtection* active = nullptr;  // the run whose RAM the handler watches

}  // namespace

bool FrameProtection::host_supports() {
  return sysconf(_SC_PAGESIZE) == 4096;
}

FrameProtection::FrameProtection(uint8_t* ram, uint64_t ram_bytes, vm::SlabSanity& sanity)
    : ram_(ram), ram_bytes_(ram_bytes), sanity_(sanity) {
  if (active != nullptr) {
    std::fprintf(stderr, "vmsim: internal error: two runs protect frames at once\n");
    std::abort();
  }
  active = this;
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &previous_);
}

FrameProtection::~FrameProtection() {
  mprotect(ram_, ram_bytes_, PROT_READ | PROT_WRITE);
  sigaction(SIGSEGV, &previous_, nullptr);
  active = nullptr;
}

void FrameProtection::protect(vm::paddr_t pa, bool writable) {
  if (mprotect(ram_ + pa, 4096, PROT_READ | (writable ? PROT_WRITE : 0)) != 0) {
    std::perror("vmsim: internal error: mprotect of a slab frame");
    std::abort();
  }
}

// Async-signal context: SlabSanity::write_trapped only reads the page array,
// formats into a fixed buffer and calls protect() (mprotect is
// async-signal-safe).
void FrameProtection::on_segv(int sig, siginfo_t* info, void* context) {
  FrameProtection* self = active;
  const auto* addr = static_cast<const uint8_t*>(info->si_addr);
  if (self != nullptr && addr >= self->ram_ && addr < self->ram_ + self->ram_bytes_ &&
      self->sanity_.write_trapped(static_cast<vm::paddr_t>(addr - self->ram_))) {
    return;
  }
  // Not a slab write: the fault is someone else's (ASan's handler, or none).
  if (self != nullptr) {
    const struct sigaction& prev = self->previous_;
    if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
      prev.sa_sigaction(sig, info, context);
      return;
    }
    if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
      prev.sa_handler(sig);
      return;
    }
  }
  signal(SIGSEGV, SIG_DFL);  // returning re-runs the access: the default action ends us
}

}  // namespace vmsim
