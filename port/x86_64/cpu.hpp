// Single instructions the kernel needs, as inline functions.
#pragma once

#include <stdint.h>

namespace port {

inline constexpr uint64_t kKernelVma = 0xffffffff80000000;
inline constexpr uint64_t kDirectMap = 0xffff800000000000;  // all physical memory, 2 MiB pages
inline constexpr uint64_t kDirectMapSize = 4ull << 30;

template <typename T = uint8_t>
inline T* phys_to_virt(uint64_t pa) {
  return reinterpret_cast<T*>(kDirectMap + pa);
}
// Physical address of a kernel-image symbol.
inline uint64_t image_phys(const void* p) {
  return reinterpret_cast<uint64_t>(p) - kKernelVma;
}

inline void outb(uint16_t port, uint8_t v) {
  asm volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
inline uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
inline void outl(uint16_t port, uint32_t v) {
  asm volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" ::"c"(msr), "a"(uint32_t(v)), "d"(uint32_t(v >> 32)));
}
inline uint64_t read_cr2() {
  uint64_t v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
inline uint64_t read_cr3() {
  uint64_t v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
inline void write_cr3(uint64_t v) {
  asm volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
inline void invlpg(uint64_t va) {
  asm volatile("invlpg (%0)" ::"r"(va) : "memory");
}
inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}
inline void cpu_relax() {
  asm volatile("pause" ::: "memory");
}
inline void irq_enable() {
  asm volatile("sti" ::: "memory");
}
inline void irq_disable() {
  asm volatile("cli" ::: "memory");
}
[[noreturn]] inline void halt_forever() {
  for (;;) asm volatile("cli; hlt");
}

}  // namespace port
