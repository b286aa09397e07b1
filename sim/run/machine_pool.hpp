// Machines kept between the runs of one vmsim process. `vmsim explore`
// makes thousands of short runs, and creating a machine's Unicorn engines
// is most of each; a run takes a machine of its size here and gives it back
// when it ends, and the next run gets it reset (Machine::reset: zero RAM,
// fresh firmware, empty TLBs) as if new.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "machine/machine.hpp"

namespace vmsim {

class MachineLease {
 public:
  // A pooled machine of that shape, reset, or a new one.
  MachineLease(uint64_t ram_bytes, uint32_t cpus, const std::vector<DeviceRange>& devices = {});
  ~MachineLease();  // back to the pool
  MachineLease(const MachineLease&) = delete;
  MachineLease& operator=(const MachineLease&) = delete;

  Machine& operator*() const { return *machine_; }

 private:
  std::unique_ptr<Machine> machine_;
};

}  // namespace vmsim
