// The guest code pages of stubs.S, seen from the host as bytes. Only
// offsets within a page matter: the firmware copies each page into simulated
// physical memory and maps it at a fixed guest virtual address.
#pragma once

#include <cstdint>

#include "machine/firmware.hpp"

extern "C" {
extern const uint8_t vmsim_ustub_page[];
extern const uint8_t vmsim_ustub_load8[];
extern const uint8_t vmsim_ustub_load16[];
extern const uint8_t vmsim_ustub_load32[];
extern const uint8_t vmsim_ustub_load64[];
extern const uint8_t vmsim_ustub_touch_load[];
extern const uint8_t vmsim_ustub_batch[];
extern const uint8_t vmsim_ustub_store_begin[];
extern const uint8_t vmsim_ustub_store8[];
extern const uint8_t vmsim_ustub_store16[];
extern const uint8_t vmsim_ustub_store32[];
extern const uint8_t vmsim_ustub_store64[];
extern const uint8_t vmsim_ustub_touch_store[];
extern const uint8_t vmsim_ustub_store_end[];
extern const uint8_t vmsim_ustub_done[];
extern const uint8_t vmsim_ustub_end[];

extern const uint8_t vmsim_kstub_page[];
extern const uint8_t vmsim_kstub_enter_user_pkru[];
extern const uint8_t vmsim_kstub_enter_user[];
extern const uint8_t vmsim_kstub_invlpg[];
extern const uint8_t vmsim_kstub_end[];
}

namespace vmsim::stubs {

// Offset of a user-stub label from the start of the first user page.
inline uint64_t user_offset(const uint8_t* label) {
  return static_cast<uint64_t>(label - vmsim_ustub_page);
}

// Offset of a kernel-page label from the start of that page.
inline uint64_t kernel_offset(const uint8_t* label) {
  return static_cast<uint64_t>(label - vmsim_kstub_page);
}

// Guest virtual address of a label, where the firmware maps its page.
inline uint64_t user_va(const uint8_t* label) {
  return fw::kUserStubVa + user_offset(label);
}
inline uint64_t kernel_va(const uint8_t* label) {
  return fw::kKernelCodeVa + kernel_offset(label);
}

}  // namespace vmsim::stubs
