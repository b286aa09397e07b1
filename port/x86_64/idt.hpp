// The interrupt descriptor table and the trap dispatcher: exceptions from
// ring 3 end the current user excursion, the IPIs do their work, anything
// else is a kernel bug.
#pragma once

#include <stdint.h>

namespace port {

inline constexpr uint8_t kVecUserDone = 0x80;
inline constexpr uint8_t kVecShootdown = 0xf0;
inline constexpr uint8_t kVecWake = 0xf1;
inline constexpr uint8_t kVecSpurious = 0xff;

// What entry.S pushed, lowest address first.
struct TrapFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;
};

void idt_init();  // builds the table (once)
void idt_load();  // on each CPU

}  // namespace port
