#include "kernel_va.hpp"

#include "console.hpp"
#include "cpu.hpp"
#include "kthread.hpp"
#include "memory.hpp"
#include "vm/vmem.hpp"

extern "C" uint64_t kernel_pml4[512];

namespace port {
namespace {

constexpr uint64_t kPresent = 1, kWritable = 2, kGlobal = 1 << 8;
constexpr uint64_t kNoExecute = uint64_t{1} << 63;
constexpr uint64_t kAddrMask = 0x000ffffffffff000;
constexpr uint64_t kPage = 4096;

alignas(4096) uint64_t kva_pdpt[512];
alignas(4096) uint64_t kva_pd[512];

// The arena's tags come in boot pages, never given back: the kernel's
// address space lives as long as the kernel.
class BootPages final : public vm::VmemPageSource {
 public:
  void* alloc_page() override { return boot_alloc(kPage, kPage); }
  void free_page(void*) override {}
};

BootPages tag_pages;
vm::VmemArena arena;

// Physical address of a direct-map pointer (what boot_alloc returns).
uint64_t direct_phys(const void* p) {
  return reinterpret_cast<uint64_t>(p) - kDirectMap;
}

// The PTE slot of `va` in the arena, its page table made on first use.
uint64_t* pte_slot(uint64_t va) {
  uint64_t& pde = kva_pd[(va >> 21) & 511];
  if ((pde & kPresent) == 0) {
    void* table = boot_alloc(kPage, kPage);
    pde = direct_phys(table) | kPresent | kWritable;
  }
  return phys_to_virt<uint64_t>(pde & kAddrMask) + ((va >> 12) & 511);
}

bool in_arena(uint64_t va) {
  return va >= kKernelVaBase && va - kKernelVaBase < kKernelVaSize;
}

bool mapped(uint64_t va) {
  const uint64_t pde = kva_pd[(va >> 21) & 511];
  if ((pde & kPresent) == 0) return false;
  return (phys_to_virt<uint64_t>(pde & kAddrMask)[(va >> 12) & 511] & kPresent) != 0;
}

}  // namespace

void kernel_va_init() {
  vm::VmemArena::Config c;
  c.name = "kernel_va";
  c.quantum = kPage;
  c.pages = &tag_pages;
  if (arena.init(c) != vm::VmemStatus::kOk ||
      arena.add(kKernelVaBase, kKernelVaSize) != vm::VmemStatus::kOk)
    kpanic("kernel_va: the arena refused its span");
  kva_pdpt[(kKernelVaBase >> 30) & 511] = image_phys(kva_pd) | kPresent | kWritable;
  kernel_pml4[(kKernelVaBase >> 39) & 511] = image_phys(kva_pdpt) | kPresent | kWritable;
}

uint8_t* kernel_stack_alloc(size_t bytes) {
  const uint64_t size = (bytes + kPage - 1) & ~(kPage - 1);
  uint64_t base = 0;
  // Instant fit: constant time whatever the number of stacks.
  if (arena.alloc(size + kPage, vm::VmemPolicy::kInstantFit, &base) != vm::VmemStatus::kOk)
    kpanic("kernel_va: no room for a kernel stack");
  // The lowest page stays unmapped: the guard.
  for (uint64_t va = base + kPage; va < base + kPage + size; va += kPage) {
    void* frame = boot_alloc(kPage, kPage);
    *pte_slot(va) = direct_phys(frame) | kPresent | kWritable | kGlobal | kNoExecute;
  }
  return reinterpret_cast<uint8_t*>(base + kPage);
}

bool kernel_stack_guard(uint64_t va) {
  va &= ~(kPage - 1);
  return in_arena(va) && in_arena(va + kPage) && !mapped(va) && mapped(va + kPage);
}

namespace {

// Each frame keeps 1 KiB of its own live, so the compiler cannot turn the
// recursion into a loop. The bound is never met: the guard is, long before.
constexpr uint64_t kDepthBound = uint64_t{1} << 40;

[[gnu::noinline]] uint64_t recurse(uint64_t depth) {
  volatile uint8_t frame[1024];
  frame[0] = static_cast<uint8_t>(depth);
  if (depth == kDepthBound) return frame[0];
  return recurse(depth + 1) + frame[0];
}

void overflow_entry(void*) {
  recurse(0);
}

}  // namespace

void overflow_kernel_stack() {
  constexpr size_t kStack = 16 * 1024;
  static KThread thread;
  kthread_init(&thread, kernel_stack_alloc(kStack), kStack, &overflow_entry, nullptr);
  kthread_resume(&thread);
  kpanic("kernel_va: the recursion returned");
}

const char* kernel_va_check() {
  return arena.check();
}

}  // namespace port
