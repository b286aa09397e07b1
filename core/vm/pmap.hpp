// The physical map: one address space's x86-64 4-level page tables (PML4 →
// PDPT → PD → PT, 4 KiB pages only). Paging-structure pages come from the
// page allocator and go back when their last entry is cleared. Every change
// to a present entry is recorded in a TlbBatch; the caller flushes the batch
// before it frees any frame the old entries named (unhook → flush → free, as
// Linux's mmu_gather orders it).
#pragma once

#include "lib/types.hpp"
#include "platform.hpp"
#include "vm/tlb_batch.hpp"

namespace vm {

class PageAllocator;

// The lower half is user space; the user range ends one page below the top
// of it (Linux's TASK_SIZE), the upper half belongs to the kernel.
inline constexpr vaddr_t kUserTop = 0x7ffffffff000;
inline constexpr vaddr_t kKernelBase = 0xffff800000000000;

// What a PTE grants, in machine-independent terms.
struct PteAttrs {
  bool writable = false;
  bool executable = false;
  bool user = true;
};

class Pmap {
 public:
  // Allocates the PML4 and copies the platform's kernel half into it.
  Status init(Platform& platform, PageAllocator& pages);
  // Frees every paging-structure page; nothing may be mapped any more
  // (the caller removed all user mappings and flushed).
  void destroy();

  paddr_t root() const { return root_; }

  // Maps `va` → `pa`. May allocate paging-structure pages (kNoMem).
  // If `va` was mapped, the old entry is replaced and the change recorded.
  Status enter(vaddr_t va, paddr_t pa, PteAttrs attrs, TlbBatch& batch);
  // Clears every entry in [start, end) and frees paging-structure pages that
  // become empty. For each cleared entry calls `on_unmap(ctx, va, pa)` so the
  // caller can drop its reverse-map count.
  void remove(vaddr_t start, vaddr_t end, TlbBatch& batch,
              void (*on_unmap)(void* ctx, vaddr_t va, paddr_t pa) = nullptr,
              void* ctx = nullptr);
  // Lowers the rights of present entries in [start, end) to at most `attrs`.
  void protect(vaddr_t start, vaddr_t end, PteAttrs attrs, TlbBatch& batch);

  // The translation of `va`, if present.
  bool extract(vaddr_t va, paddr_t* pa, PteAttrs* attrs) const;

  // Calls `fn(ctx, va, pa, attrs)` for every present user entry, ascending.
  void for_each(void (*fn)(void* ctx, vaddr_t va, paddr_t pa, PteAttrs attrs),
                void* ctx) const;

  // CPUs that may hold translations of this address space.
  CpuSet& active_cpus() { return active_; }

  u64 table_pages() const { return table_pages_; }  // including the PML4

  // Audit: entry counts of table pages agree with their contents, states
  // are kPageTable, no user entry in the kernel half. nullptr or the name of
  // the broken invariant.
  const char* check() const;

 private:
  Platform* platform_ = nullptr;
  PageAllocator* pages_ = nullptr;
  paddr_t root_ = 0;
  u64 table_pages_ = 0;
  CpuSet active_;
};

}  // namespace vm
