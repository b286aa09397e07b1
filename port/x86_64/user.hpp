// User accesses as real ring-3 loads and stores: one access per excursion,
// from the stub page mapped in every address space (memory.hpp).
#pragma once

#include <stdint.h>

namespace port {

enum class StopKind { kDone, kPageFault, kGeneralProtection };

struct Stop {
  StopKind kind = StopKind::kDone;
  uint64_t value = 0;       // kDone, load: what was read (zero-extended)
  uint64_t fault_addr = 0;  // kPageFault: CR2; kGeneralProtection: the access address
  bool fault_write = false;
};

// Runs one access of `size` bytes (1, 2, 4, 8) at `addr` in ring 3, on the
// page tables already in CR3. Interrupts must be off.
Stop user_access_once(bool store, uint64_t addr, uint32_t size, uint64_t value);

// Whether [addr, addr+len) touches the stub page: such an access is a fault by
// definition (the page is the kernel half's), and is never run.
bool user_stub_range(uint64_t addr, uint64_t len);

}  // namespace port
