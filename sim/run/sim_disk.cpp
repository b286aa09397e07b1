#include "run/sim_disk.hpp"

#include <algorithm>
#include <cstring>

namespace vmsim {

SimDisk::SimDisk(const std::vector<FileSpec>& files) {
  for (const FileSpec& f : files) disks_.push_back(Disk{&f, f.size, {}});
}

uint8_t SimDisk::generated_byte(const Disk& d, uint64_t offset) const {
  return offset >= d.generated ? 0 : initial_byte(*d.spec, offset);
}

void SimDisk::read(uint32_t file, uint64_t page, uint8_t* buf) const {
  const Disk& d = disks_.at(file);
  auto it = d.written.find(page);
  if (it != d.written.end()) {
    std::memcpy(buf, it->second.data(), 4096);
    return;
  }
  for (uint64_t i = 0; i < 4096; ++i) buf[i] = generated_byte(d, page * 4096 + i);
}

void SimDisk::write(uint32_t file, uint64_t page, const uint8_t* buf) {
  std::memcpy(disks_.at(file).written[page].data(), buf, 4096);
}

void SimDisk::truncate(uint32_t file, uint64_t size) {
  Disk& d = disks_.at(file);
  d.generated = std::min(d.generated, size);
  for (auto it = d.written.lower_bound(size / 4096); it != d.written.end();) {
    const uint64_t start = it->first * 4096;
    if (start >= size) {
      it = d.written.erase(it);
      continue;
    }
    std::memset(it->second.data() + (size - start), 0, 4096 - (size - start));
    ++it;
  }
}

void SimDisk::zero_page_tail(uint32_t file, uint64_t size) {
  if (size % 4096 == 0) return;
  std::array<uint8_t, 4096> page;
  read(file, size / 4096, page.data());
  std::memset(page.data() + size % 4096, 0, 4096 - size % 4096);
  write(file, size / 4096, page.data());
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
