#include "gdt.hpp"

namespace port {

void gdt_load(CpuTables& t, uint64_t rsp0, uint64_t ist1) {
  t.gdt[0] = 0;
  t.gdt[1] = 0x00209a0000000000;  // kernel code, 64-bit
  t.gdt[2] = 0x0000920000000000;  // kernel data
  t.gdt[3] = 0x0000f20000000000;  // user data
  t.gdt[4] = 0x0020fa0000000000;  // user code, 64-bit
  t.tss = Tss{};
  t.tss.rsp[0] = rsp0;
  t.tss.ist[0] = ist1;
  t.tss.iomap_base = sizeof(Tss);  // no I/O bitmap: ring 3 has no port access
  const uint64_t base = reinterpret_cast<uint64_t>(&t.tss);
  const uint64_t limit = sizeof(Tss) - 1;
  t.gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  t.gdt[6] = base >> 32;

  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) ptr{sizeof(t.gdt) - 1, reinterpret_cast<uint64_t>(t.gdt)};
  asm volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "mov %2, %%ax\n"
      "mov %%ax, %%ds\n"
      "mov %%ax, %%es\n"
      "mov %%ax, %%ss\n"
      "ltr %w3\n"
      :
      : "m"(ptr), "i"(kKernelCs), "i"(kKernelDs), "r"(kTssSel)
      : "rax", "memory");
}

}  // namespace port
