#include "idt.hpp"

#include "apic.hpp"
#include "console.hpp"
#include "cpu.hpp"
#include "gdt.hpp"
#include "kernel_va.hpp"
#include "percpu.hpp"
#include "slab_protection.hpp"
#include "smp.hpp"

extern "C" const uint64_t isr_table[32];
extern "C" const uint64_t isr_vec128, isr_vec240, isr_vec241, isr_vec255;
extern "C" [[noreturn]] void user_resume_kernel(uint64_t kernel_rsp);

namespace port {
namespace {

struct Gate {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type;  // present, DPL, 64-bit interrupt gate (interrupts off on entry)
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
} __attribute__((packed));

alignas(16) Gate idt[256];

void set_gate(unsigned vec, uint64_t handler, unsigned dpl, unsigned ist) {
  idt[vec] = Gate{static_cast<uint16_t>(handler),
                  kKernelCs,
                  static_cast<uint8_t>(ist),
                  static_cast<uint8_t>(0x8e | (dpl << 5)),
                  static_cast<uint16_t>(handler >> 16),
                  static_cast<uint32_t>(handler >> 32),
                  0};
}

[[noreturn]] void kernel_trap(const TrapFrame* f) {
  Line l;
  // A push into the guard page faults, and the #PF's own frame faults
  // again: the double fault, on its IST stack, is how an overflow arrives.
  if ((f->vector == 8 || f->vector == 14) && kernel_stack_guard(read_cr2())) {
    l << "kernel stack overflow: CPU " << percpu()->index << " ran into the guard page at "
      << vm::Hex{read_cr2() & ~uint64_t{4095}} << " below a kernel stack (exception " << f->vector
      << ", rip " << vm::Hex{f->rip} << ")";
    kpanic(l.c_str());
  }
  l << "CPU " << percpu()->index << ": exception " << f->vector << " in the kernel at rip "
    << vm::Hex{f->rip} << ", error " << vm::Hex{f->error} << ", cr2 " << vm::Hex{read_cr2()};
  kpanic(l.c_str());
}

}  // namespace

void idt_init() {
  for (unsigned v = 0; v < 32; ++v) set_gate(v, isr_table[v], 0, v == 8 ? 1 : 0);
  set_gate(kVecUserDone, isr_vec128, 3, 0);  // the user stubs' way back
  set_gate(kVecShootdown, isr_vec240, 0, 0);
  set_gate(kVecWake, isr_vec241, 0, 0);
  set_gate(kVecSpurious, isr_vec255, 0, 0);
}

void idt_load() {
  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) ptr{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile("lidt %0" ::"m"(ptr));
}

extern "C" void trap_dispatch(TrapFrame* f) {
  switch (f->vector) {
    case kVecShootdown:
      handle_shootdown();
      lapic_eoi();
      return;
    case kVecWake:
      lapic_eoi();
      return;
    case kVecSpurious:
      return;
    default:
      break;
  }
  if ((f->cs & 3) == 0) {
    if (f->vector == 14 && slab_protection_trap(read_cr2(), f->error)) return;
    kernel_trap(f);
  }
  // From ring 3: the excursion is over, whatever ended it.
  PerCpu* pc = percpu();
  pc->stop = UserStop{f->vector, f->error, f->vector == 14 ? read_cr2() : 0, f->rax, f->rdi};
  user_resume_kernel(pc->user_kernel_rsp);
}

}  // namespace port
