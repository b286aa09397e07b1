// The parts of the multiboot v1 information structure the kernel reads.
#pragma once

#include <stdint.h>

namespace port {

inline constexpr uint32_t kMultibootBootMagic = 0x2badb002;

struct MultibootInfo {
  uint32_t flags;
  uint32_t mem_lower, mem_upper;
  uint32_t boot_device;
  uint32_t cmdline;
  uint32_t mods_count, mods_addr;  // flags bit 3
  uint32_t syms[4];
  uint32_t mmap_length, mmap_addr;  // flags bit 6
} __attribute__((packed));

struct MultibootModule {
  uint32_t mod_start, mod_end;
  uint32_t string;
  uint32_t reserved;
} __attribute__((packed));

struct MultibootMmapEntry {
  uint32_t size;  // of the rest of the entry
  uint64_t base, length;
  uint32_t type;  // 1: available RAM
} __attribute__((packed));

}  // namespace port
