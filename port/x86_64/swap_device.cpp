#include "swap_device.hpp"

#include "memory.hpp"

namespace port {

uint64_t SwapDevice::footprint(uint64_t slots) {
  return slots * 4096 + (slots + 63) / 64 * 8;
}

void SwapDevice::init(uint64_t slots) {
  slots_ = slots;
  if (slots == 0) return;
  written_ = boot_alloc_array<uint64_t>((slots + 63) / 64);
  storage_ = static_cast<uint8_t*>(boot_reserve(slots * 4096, 4096));
}

void SwapDevice::read(uint64_t slot, uint8_t* buf) const {
  if (!written(slot)) {  // a slot is read only after its write completed
    for (int i = 0; i < 4096; ++i) buf[i] = 0;
    return;
  }
  const uint8_t* s = storage_ + slot * 4096;
  for (int i = 0; i < 4096; ++i) buf[i] = s[i];
}

void SwapDevice::write(uint64_t slot, const uint8_t* buf) {
  // Atomic: the stress mode writes other slots of the word on other CPUs.
  __atomic_fetch_or(&written_[slot / 64], uint64_t{1} << (slot % 64), __ATOMIC_RELEASE);
  uint8_t* s = storage_ + slot * 4096;
  for (int i = 0; i < 4096; ++i) s[i] = buf[i];
}

}  // namespace port
