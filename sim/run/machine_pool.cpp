#include "run/machine_pool.hpp"

#include <vector>

namespace vmsim {
namespace {

// A few idle machines at most: runs of one trace all want the same size.
constexpr size_t kMaxIdle = 2;

// One pool per thread: a run never crosses threads (explore's workers are
// processes; tests may run traces on several threads).
std::vector<std::unique_ptr<Machine>>& idle() {
  thread_local std::vector<std::unique_ptr<Machine>> machines;
  return machines;
}

}  // namespace

MachineLease::MachineLease(uint64_t ram_bytes, uint32_t cpus,
                           const std::vector<DeviceRange>& devices) {
  auto& pool = idle();
  for (auto it = pool.begin(); it != pool.end(); ++it) {
    if ((*it)->ram_bytes() != ram_bytes || (*it)->cpus() != cpus || (*it)->devices() != devices)
      continue;
    machine_ = std::move(*it);
    pool.erase(it);
    machine_->reset();
    return;
  }
  MachineOptions options;
  options.devices = devices;
  machine_ = std::make_unique<Machine>(ram_bytes, cpus, options);
}

MachineLease::~MachineLease() {
  auto& pool = idle();
  if (pool.size() == kMaxIdle) pool.erase(pool.begin());  // the oldest goes
  pool.push_back(std::move(machine_));
}

}  // namespace vmsim
