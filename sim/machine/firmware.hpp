// The firmware area: simulator-owned pages in simulated physical memory right
// after RAM. They hold the kernel half of every address space (a PML4
// template and the tables below it), a GDT, ring-0 code and stack, and the
// user-mode stub page the emulated CPUs execute trace accesses with.
#pragma once

#include <cstdint>

namespace vmsim::fw {

inline constexpr uint64_t kPageSize = 4096;

// x86-64 paging-entry bits (Intel SDM vol. 3, 4.5).
inline constexpr uint64_t kPtePresent = 1ull << 0;
inline constexpr uint64_t kPteWrite = 1ull << 1;
inline constexpr uint64_t kPteUser = 1ull << 2;
inline constexpr uint64_t kPteAccessed = 1ull << 5;
inline constexpr uint64_t kPteDirty = 1ull << 6;
inline constexpr uint64_t kPteGlobal = 1ull << 8;
inline constexpr uint64_t kPteNoExec = 1ull << 63;
inline constexpr int kPtePkeyShift = 59;  // bits 62:59, used when CR4.PKE = 1
inline constexpr uint64_t kPteAddrMask = 0x000ffffffffff000ull;

// Firmware pages, by index from the firmware's physical base. The area is
// reserved at a fixed size so its layout can grow without moving RAM.
enum Page : uint64_t {
  kPml4Page,         // kernel_root(): PML4 template, only entry 511 is used
  kPdptPage,         // PDPT for PML4[511]
  kPdPage,           // PD for PDPT[511]
  kPtPage,           // PT for PD[507], maps the window below
  kGdtPage,          // GDT
  kKernelCodePage,   // ring-0 stubs (stubs.S, kernel page)
  kKernelStackPage,  // ring-0 stack (the iretq frame)
  kUserStubPage,     // user stubs (stubs.S, user page)
  kBatchPage,        // first of kBatchPages: the batch stub's descriptors
  kPageCount = kBatchPage + 8
};
inline constexpr uint64_t kFirmwareBytes = 64 * 1024;
static_assert(kPageCount * kPageSize <= kFirmwareBytes);

// Guest virtual layout: one 2 MiB window at Linux's vsyscall address,
// reached by PML4[511] → PDPT[511] → PD[507] → PT[0..11]. Only the stub
// page and the batch pages carry the User bit; the rest is supervisor-only.
inline constexpr uint64_t kWindowVa = 0xffffffffff600000ull;
inline constexpr uint64_t kUserStubVa = kWindowVa;  // PT[0]: user, read+exec
inline constexpr uint64_t kUserStubBytes = kPageSize;
inline constexpr uint64_t kGdtVa = kWindowVa + 1 * kPageSize;          // PT[1]
inline constexpr uint64_t kKernelCodeVa = kWindowVa + 2 * kPageSize;   // PT[2]
inline constexpr uint64_t kKernelStackVa = kWindowVa + 3 * kPageSize;  // PT[3]
inline constexpr uint64_t kKernelStackTop = kKernelStackVa + kPageSize;
// PT[4..11]: the batch descriptors (Machine::batch), user read-only, never
// executed; the host fills them between runs.
inline constexpr uint64_t kBatchPages = kPageCount - kBatchPage;
inline constexpr uint64_t kBatchVa = kWindowVa + 4 * kPageSize;
inline constexpr uint64_t kBatchBytes = kBatchPages * kPageSize;

// GDT selectors. User data comes before user code (the SYSRET order, as in
// Linux); the low two bits of a user selector are its RPL, 3.
inline constexpr uint16_t kKernelCs = 0x08;
inline constexpr uint16_t kKernelDs = 0x10;
inline constexpr uint16_t kUserDs = 0x18 | 3;
inline constexpr uint16_t kUserCs = 0x20 | 3;
inline constexpr uint16_t kGdtLimit = 5 * 8 - 1;

// Protection key of the stub page, and the PKRU that denies CPL-3 data
// access to it (PKRU.AD of that key). Instruction fetch ignores keys, so the
// stubs still run: the page becomes execute-only for user mode.
inline constexpr uint64_t kStubPkey = 1;
inline constexpr uint32_t kStubPkru = 1u << (2 * kStubPkey);

// Writes the firmware into the host view of physical memory. `fw` is the
// host pointer to physical address `fw_pa` (page aligned).
void build(uint8_t* fw, uint64_t fw_pa, bool stub_pkey);

}  // namespace vmsim::fw
