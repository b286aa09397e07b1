#include "run/sim_disk.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace vmsim {

SimDisk::SimDisk(const std::vector<FileSpec>& files) {
  std::vector<disk::DiskFile> specs;
  for (const FileSpec& f : files) specs.push_back(disk::DiskFile{f.size, f.seed, f.seeded, f.fill});
  files_.init(specs.data(), static_cast<uint32_t>(specs.size()), *this);
}

void SimDisk::Free::operator()(void* p) const {
  std::free(p);
}

void* SimDisk::allocate(size_t bytes, size_t align) {
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  memory_.emplace_back(p);
  return p;
}

void SimDisk::swap_read(uint64_t slot, uint8_t* buf) const {
  auto it = swap_.find(slot);
  if (it == swap_.end()) {
    std::memset(buf, 0, 4096);
    return;
  }
  std::memcpy(buf, it->second.data(), 4096);
}

void SimDisk::swap_write(uint64_t slot, const uint8_t* buf) {
  std::memcpy(swap_[slot].data(), buf, 4096);
}

}  // namespace vmsim
