// Segments and the task-state segment, per CPU (the TSS names the stack a
// trap from ring 3 lands on).
#pragma once

#include <stdint.h>

namespace port {

inline constexpr uint16_t kKernelCs = 0x08, kKernelDs = 0x10;
inline constexpr uint16_t kUserDs = 0x18 | 3, kUserCs = 0x20 | 3;
inline constexpr uint16_t kTssSel = 0x28;

struct Tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
} __attribute__((packed));

struct CpuTables {
  uint64_t gdt[7];
  Tss tss;
};

// Loads the GDT and TSS of `t`; traps from ring 3 use `rsp0`, double faults `ist1`.
void gdt_load(CpuTables& t, uint64_t rsp0, uint64_t ist1);

}  // namespace port
