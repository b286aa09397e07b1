#include "machine/firmware.hpp"

#include <cstring>

#include "machine/stubs.hpp"

namespace vmsim::fw {
namespace {

constexpr uint64_t va_index(uint64_t va, int level) {
  return (va >> (12 + 9 * level)) & 511;
}

void set_entry(uint8_t* fw, Page table, uint64_t index, uint64_t entry) {
  std::memcpy(fw + table * kPageSize + index * 8, &entry, sizeof entry);
}

// Tables down to the window's PT. Upper levels grant everything (P, RW, U):
// on x86 the rights of a walk are the AND over its levels, so each leaf
// entry alone decides what its page allows.
void build_tables(uint8_t* fw, uint64_t fw_pa) {
  constexpr uint64_t kTable = kPtePresent | kPteWrite | kPteUser;
  static_assert(va_index(kWindowVa, 3) == 511 && va_index(kWindowVa, 2) == 511);
  set_entry(fw, kPml4Page, va_index(kWindowVa, 3), (fw_pa + kPdptPage * kPageSize) | kTable);
  set_entry(fw, kPdptPage, va_index(kWindowVa, 2), (fw_pa + kPdPage * kPageSize) | kTable);
  set_entry(fw, kPdPage, va_index(kWindowVa, 1), (fw_pa + kPtPage * kPageSize) | kTable);
}

// The kernel half is the same in every address space: its leaves are global,
// so an address-space switch (a CR3 write) keeps their translations.
void map_window_page(uint8_t* fw, uint64_t fw_pa, uint64_t va, Page page, uint64_t bits) {
  set_entry(fw, kPtPage, va_index(va, 0),
            (fw_pa + page * kPageSize) | kPtePresent | kPteGlobal | bits);
}

void build_leaves(uint8_t* fw, uint64_t fw_pa, bool stub_pkey) {
  const uint64_t pkey = stub_pkey ? kStubPkey << kPtePkeyShift : 0;
  map_window_page(fw, fw_pa, kUserStubVa, kUserStubPage, kPteUser | pkey);
  // The GDT is writable so that a descriptor load may set its accessed bit
  // (they are all preset, so none should).
  map_window_page(fw, fw_pa, kGdtVa, kGdtPage, kPteWrite | kPteNoExec);
  map_window_page(fw, fw_pa, kKernelCodeVa, kKernelCodePage, 0);
  map_window_page(fw, fw_pa, kKernelStackVa, kKernelStackPage, kPteWrite | kPteNoExec);
  for (uint64_t i = 0; i < kBatchPages; ++i)
    map_window_page(fw, fw_pa, kBatchVa + i * kPageSize, Page(kBatchPage + i),
                    kPteUser | kPteNoExec);
}

// Flat 64-bit descriptors, accessed bit preset (Intel SDM vol. 3, 3.4.5):
// code = present, S, type execute/read; data = present, S, type read/write;
// L = 1 for 64-bit code; DPL in bits 45-46.
void build_gdt(uint8_t* fw) {
  constexpr uint64_t kCode64 = 0x00209b0000000000ull;
  constexpr uint64_t kData = 0x0000930000000000ull;
  constexpr uint64_t kDpl3 = 3ull << 45;
  const uint64_t gdt[] = {0, kCode64, kData, kData | kDpl3, kCode64 | kDpl3};
  static_assert(sizeof gdt == kGdtLimit + 1);
  static_assert(kKernelCs == 1 * 8 && kKernelDs == 2 * 8);
  static_assert((kUserDs & ~3) == 3 * 8 && (kUserCs & ~3) == 4 * 8);
  std::memcpy(fw + kGdtPage * kPageSize, gdt, sizeof gdt);
}

// Copies stub pages (stubs.S pads them with int3 to whole pages).
void copy_stub_pages(uint8_t* fw, Page first, const uint8_t* begin, uint64_t bytes) {
  std::memcpy(fw + first * kPageSize, begin, bytes);
}

}  // namespace

void build(uint8_t* fw, uint64_t fw_pa, bool stub_pkey) {
  std::memset(fw, 0, kFirmwareBytes);
  build_tables(fw, fw_pa);
  build_leaves(fw, fw_pa, stub_pkey);
  build_gdt(fw);
  copy_stub_pages(fw, kUserStubPage, vmsim_ustub_page, kUserStubBytes);
  copy_stub_pages(fw, kKernelCodePage, vmsim_kstub_page, kPageSize);
}

}  // namespace vmsim::fw
