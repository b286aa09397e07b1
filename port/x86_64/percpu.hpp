// Per-CPU state of a physical CPU, reached through the GS base MSR.
#pragma once

#include <stdint.h>

#include "cpu.hpp"
#include "gdt.hpp"

namespace port {

inline constexpr unsigned kMaxPhysCpus = 16;

// Callee-saved registers, stack and return address (entry.S kjmp_*).
struct KJmpBuf {
  uint64_t regs[8];
};
extern "C" int kjmp_set(KJmpBuf* buf) __attribute__((returns_twice));
extern "C" [[noreturn]] void kjmp_long(KJmpBuf* buf, int value);

// Why the last excursion to ring 3 came back (filled by the trap handler).
struct UserStop {
  uint64_t vector = 0;
  uint64_t error = 0;
  uint64_t cr2 = 0;
  uint64_t rax = 0;
  uint64_t rdi = 0;
};

// Work posted to a CPU (smp.cpp).
struct Mailbox {
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
  volatile uint32_t posted = 0;
  volatile uint32_t done = 0;
};

// A TLB invalidation asked of this CPU by another (port_platform.cpp).
struct Shootdown {
  uint64_t root = 0;
  uint64_t va = 0;
  uint32_t all = 0;
  volatile uint32_t pending = 0;
};

struct PerCpu {
  PerCpu* self = nullptr;
  unsigned index = 0;  // physical CPU number; the BSP is 0
  uint32_t apic_id = 0;
  volatile uint32_t online = 0;

  CpuTables tables;
  uint64_t user_kernel_rsp = 0;  // where user_resume_kernel() goes back to
  UserStop stop;

  // Who runs core code here now (the trace's cpu and thread) and what the
  // TLB may hold: the root in CR3 and the logical CPU that loaded it.
  unsigned logical = 0;
  uint32_t thread = 0;
  int loaded_logical = -1;

  // Where a core panic unwinds to while an op runs here; nullptr: nowhere.
  KJmpBuf* panic_jmp = nullptr;
  char panic_message[256] = {};

  Mailbox mailbox;
  Shootdown shootdown;

  alignas(16) uint8_t trap_stack[16384];  // TSS.RSP0: traps from ring 3
  alignas(16) uint8_t fault_stack[8192];  // IST1: double faults
  alignas(16) uint8_t stack[32768];       // an AP's kernel stack
};

extern PerCpu cpus[kMaxPhysCpus];

inline PerCpu* percpu() {
  return reinterpret_cast<PerCpu*>(rdmsr(0xc0000101));  // IA32_GS_BASE
}

}  // namespace port
