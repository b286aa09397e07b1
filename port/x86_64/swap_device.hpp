// The swap device behind the core's swap pager (machine.swap, page-sized
// slots). Its storage is one range of the boot allocator, outside the core's
// RAM, carved at boot for every slot so a run never finds it full later;
// a slot reads as zero until it is first written (as the simulator's), which
// a bitmap records, so nothing is zeroed up front and the guest touches only
// the pages of slots written.
#pragma once

#include <stdint.h>

namespace port {

class SwapDevice {
 public:
  // Bytes of boot memory `slots` slots take (storage and bitmap).
  static uint64_t footprint(uint64_t slots);

  // Carves storage for `slots` slots; the caller checked footprint() fits.
  void init(uint64_t slots);
  uint64_t slots() const { return slots_; }
  // `slot` < slots(): the platform checks (a slot past it is the core's bug).
  void read(uint64_t slot, uint8_t* buf) const;
  void write(uint64_t slot, const uint8_t* buf);

 private:
  bool written(uint64_t slot) const { return (written_[slot / 64] >> (slot % 64)) & 1; }

  uint8_t* storage_ = nullptr;   // slot i at storage_ + i * 4096
  uint64_t* written_ = nullptr;  // bit i: slot i was written
  uint64_t slots_ = 0;
};

}  // namespace port
