#include "user.hpp"

#include "console.hpp"
#include "memory.hpp"
#include "percpu.hpp"

namespace port {
namespace {

struct UserRegs {
  uint64_t rip, rdi, rsi;
};

extern "C" void user_enter(const UserRegs* regs, uint64_t* kernel_rsp_slot);

// Slot of each access in the stub page (entry.S).
uint64_t stub_offset(bool store, uint32_t size) {
  const uint64_t slot = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
  return (store ? 0x40 : 0) + slot * 0x10;
}

}  // namespace

Stop user_access_once(bool store, uint64_t addr, uint32_t size, uint64_t value) {
  PerCpu* pc = percpu();
  const UserRegs regs{kUserStubVa + stub_offset(store, size), addr, value};
  user_enter(&regs, &pc->user_kernel_rsp);
  const UserStop& s = pc->stop;
  Stop out;
  switch (s.vector) {
    case 6:  // the stub's closing ud2: the access completed
    case 0x80:
      out.value = s.rax;
      return out;
    case 14:
      out.kind = StopKind::kPageFault;
      out.fault_addr = s.cr2;
      out.fault_write = (s.error & 2) != 0;
      if (s.error & (1 << 3)) kpanic("user access: reserved bit set in a page-table entry");
      return out;
    case 13:
      out.kind = StopKind::kGeneralProtection;
      out.fault_addr = s.rdi;
      return out;
    default: {
      Line l;
      l << "user access at " << vm::Hex{addr} << " ended with exception " << s.vector;
      kpanic(l.c_str());
    }
  }
}

bool user_stub_range(uint64_t addr, uint64_t len) {
  const uint64_t end = addr + len - 1;  // inclusive; an access never wraps (aligned)
  return end >= kUserStubVa && addr <= kUserStubVa + 4095;
}

}  // namespace port
