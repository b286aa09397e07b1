#include "memory.hpp"

#include "console.hpp"
#include "cpu.hpp"

extern "C" uint64_t kernel_pml4[512], kernel_pdpt_high[512], boot_pdpt_low[512],
    boot_pdpt_direct[512];
extern "C" char __bss_end[], __user_stubs_start[];

namespace port {
namespace {

constexpr uint64_t kPresent = 1, kWritable = 2, kUser = 4, kHuge = 1 << 7, kGlobal = 1 << 8;

alignas(4096) uint64_t stub_pd[512];
alignas(4096) uint64_t stub_pt[512];
alignas(4096) uint64_t ap_boot_pml4[512];
alignas(4096) uint64_t direct_pd[kDirectMapSize >> 30][512];

// The 4 KiB tables of the direct map where it was split, per 2 MiB.
uint64_t* direct_pt[kDirectMapSize >> 21];

uint64_t alloc_next = 0;  // physical
uint64_t alloc_end = 0;
uint64_t ram_limit = 0;

uint64_t align_up(uint64_t x, uint64_t a) {
  return (x + a - 1) & ~(a - 1);
}

}  // namespace

void memory_init(const MultibootInfo* mbi) {
  // Everything the loader placed: the image, the information block, the
  // module(s). The allocator starts above all of it.
  uint64_t loaded_end = image_phys(__bss_end);
  auto note = [&](uint64_t end) {
    if (end > loaded_end) loaded_end = end;
  };
  note(reinterpret_cast<uint64_t>(mbi) - kDirectMap + sizeof(MultibootInfo));
  if (mbi->flags & (1 << 3)) {
    auto* mods = phys_to_virt<const MultibootModule>(mbi->mods_addr);
    note(mbi->mods_addr + mbi->mods_count * sizeof(MultibootModule));
    for (uint32_t i = 0; i < mbi->mods_count; ++i) note(mods[i].mod_end);
  }
  if ((mbi->flags & (1 << 2)) && mbi->cmdline != 0) {  // the command line (stress mode)
    const char* c = phys_to_virt<const char>(mbi->cmdline);
    uint64_t n = 0;
    while (c[n] != 0) ++n;
    note(mbi->cmdline + n + 1);
  }
  if ((mbi->flags & (1 << 6)) == 0) kpanic("the loader gave no memory map");
  note(mbi->mmap_addr + mbi->mmap_length);
  const uint8_t* p = phys_to_virt<const uint8_t>(mbi->mmap_addr);
  const uint8_t* end = p + mbi->mmap_length;
  for (; p < end; p += reinterpret_cast<const MultibootMmapEntry*>(p)->size + 4) {
    const auto* e = reinterpret_cast<const MultibootMmapEntry*>(p);
    if (e->type != 1) continue;
    // The range that holds the kernel bounds both the allocator and the core.
    if (e->base <= kKernelPhys && kKernelPhys < e->base + e->length) {
      alloc_end = e->base + e->length;
      ram_limit = kKernelPhys;
    }
  }
  if (ram_limit == 0) kpanic("the memory map has no RAM at the kernel's load address");
  if (alloc_end > kDirectMapSize) alloc_end = kDirectMapSize;
  alloc_next = align_up(loaded_end, 4096);

  // The direct map covers the first 4 GiB (RAM, the local APIC), in 2 MiB
  // pages: 1 GiB pages fault as reserved under this machine's KVM (kvm_pvm).
  for (uint64_t i = 0; i < kDirectMapSize >> 30; ++i) {
    for (uint64_t j = 0; j < 512; ++j)
      direct_pd[i][j] = ((i << 30) + (j << 21)) | kPresent | kWritable | kHuge | kGlobal;
    boot_pdpt_direct[i] = image_phys(direct_pd[i]) | kPresent | kWritable;
  }
  // The user stub page, the one user-accessible page of the upper half.
  stub_pt[(kUserStubVa >> 12) & 511] = image_phys(__user_stubs_start) | kPresent | kUser;
  stub_pd[(kUserStubVa >> 21) & 511] = image_phys(stub_pt) | kPresent | kWritable | kUser;
  kernel_pdpt_high[(kUserStubVa >> 30) & 511] = image_phys(stub_pd) | kPresent | kWritable | kUser;
  // APs enter long mode through the identity map; the kernel root drops it.
  for (int i = 0; i < 512; ++i) ap_boot_pml4[i] = kernel_pml4[i];
  kernel_pml4[0] = 0;
  write_cr3(image_phys(kernel_pml4));
}

// The core owns physical memory from 0, the legacy window at 640 KiB-1 MiB
// included; on QEMU's q35 with qboot that window is RAM. Check it rather than
// trust it: a frame that drops writes would corrupt the run silently.
void check_core_ram(uint64_t bytes) {
  const uint64_t end = bytes < (1 << 20) ? bytes : (1 << 20);
  for (uint64_t pa = 0; pa < end; pa += 4096) {
    volatile uint64_t* w = phys_to_virt<volatile uint64_t>(pa + 8);
    const uint64_t saved = *w;
    *w = 0x5a5aa5a5c3c33c3cull ^ pa;
    const bool ok = *w == (0x5a5aa5a5c3c33c3cull ^ pa);
    *w = saved;
    if (!ok) {
      Line l;
      l << "physical page " << vm::Hex{pa} << " is not RAM, but the core owns [0, memory)";
      kpanic(l.c_str());
    }
  }
}

uint64_t core_ram_limit() {
  return ram_limit;
}

void* boot_reserve(size_t bytes, size_t align) {
  const uint64_t start = align_up(alloc_next, align);
  if (start + bytes > alloc_end || start + bytes < start) kpanic("boot allocator exhausted");
  alloc_next = start + bytes;
  return phys_to_virt<uint8_t>(start);
}

void* boot_alloc(size_t bytes, size_t align) {
  auto* ptr = static_cast<uint8_t*>(boot_reserve(bytes, align));
  for (size_t i = 0; i < bytes; ++i) ptr[i] = 0;
  return ptr;
}

uint64_t boot_alloc_room() {
  return alloc_end > alloc_next ? alloc_end - alloc_next : 0;
}

void direct_map_in_small_pages(uint64_t bytes) {
  for (uint64_t chunk = 0; chunk < bytes; chunk += uint64_t{1} << 21) {
    auto* pt = static_cast<uint64_t*>(boot_alloc(4096, 4096));
    for (uint64_t j = 0; j < 512; ++j) pt[j] = (chunk + (j << 12)) | kPresent | kWritable | kGlobal;
    direct_pd[chunk >> 30][(chunk >> 21) & 511] =
        (reinterpret_cast<uint64_t>(pt) - kDirectMap) | kPresent | kWritable;
    direct_pt[chunk >> 21] = pt;
    invlpg(kDirectMap + chunk);  // drops the global 2 MiB entry
  }
}

void direct_map_set_writable(uint64_t pa, bool writable) {
  uint64_t* pte = &direct_pt[pa >> 21][(pa >> 12) & 511];
  *pte = writable ? (*pte | kWritable) : (*pte & ~kWritable);
  invlpg(kDirectMap + pa);
}

uint64_t kernel_root_phys() {
  return image_phys(kernel_pml4);
}

uint64_t ap_boot_root_phys() {
  return image_phys(ap_boot_pml4);
}

}  // namespace port
