#include "address_shadow.hpp"

#include "address_layout.hpp"

namespace vmsim::tracegen {

void AddressShadow::split_at(uint64_t address) {
  auto it = regions_.upper_bound(address);
  if (it == regions_.begin()) return;
  --it;
  Region& left = it->second;
  if (left.start >= address || left.end <= address) return;
  Region right = left;
  right.start = address;
  if (right.file >= 0) right.file_offset += address - left.start;
  left.end = address;
  regions_.emplace(address, right);
}

void AddressShadow::map(const Region& region) {
  unmap(region.start, region.end);
  regions_.emplace(region.start, region);
}

void AddressShadow::unmap(uint64_t start, uint64_t end) {
  if (start >= end) return;
  split_at(start);
  split_at(end);
  auto it = regions_.lower_bound(start);
  while (it != regions_.end() && it->first < end) it = regions_.erase(it);
}

void AddressShadow::protect(uint64_t start, uint64_t end, uint8_t prot) {
  if (start >= end) return;
  split_at(start);
  split_at(end);
  for (auto it = regions_.lower_bound(start); it != regions_.end() && it->first < end; ++it) {
    it->second.prot = prot;
  }
}

bool AddressShadow::is_free(uint64_t start, uint64_t end) const {
  auto it = regions_.lower_bound(start);
  if (it != regions_.end() && it->first < end) return false;
  if (it == regions_.begin()) return true;
  --it;
  return it->second.end <= start;
}

bool AddressShadow::is_fully_mapped(uint64_t start, uint64_t end) const {
  uint64_t cursor = start;
  while (cursor < end) {
    const Region* region = find(cursor);
    if (region == nullptr) return false;
    cursor = region->end;
  }
  return true;
}

const Region* AddressShadow::find(uint64_t address) const {
  auto it = regions_.upper_bound(address);
  if (it == regions_.begin()) return nullptr;
  --it;
  return it->second.end > address ? &it->second : nullptr;
}

const Region* AddressShadow::next_at_or_after(uint64_t address) const {
  auto it = regions_.lower_bound(address);
  return it == regions_.end() ? nullptr : &it->second;
}

std::optional<uint64_t> AddressShadow::place(uint64_t len, std::optional<uint64_t> hint) const {
  if (len == 0) return std::nullopt;
  if (hint && *hint >= kMinMapAddr && *hint <= kUserEnd - len && is_free(*hint, *hint + len)) {
    return *hint;
  }
  if (len > kMmapTop - kMinMapAddr) return std::nullopt;
  uint64_t top = kMmapTop;  // candidate gap ends here
  for (auto it = regions_.rbegin(); it != regions_.rend(); ++it) {
    const Region& region = it->second;
    if (region.start >= top) continue;  // above the area searched so far
    if (region.end < top && top - region.end >= len) return top - len;
    top = region.start;
    if (top < kMinMapAddr + len) return std::nullopt;
  }
  if (top >= kMinMapAddr + len) return top - len;
  return std::nullopt;
}

std::vector<Region> AddressShadow::regions() const {
  std::vector<Region> out;
  out.reserve(regions_.size());
  for (const auto& [start, region] : regions_) out.push_back(region);
  return out;
}

std::vector<Gap> AddressShadow::gaps() const {
  std::vector<Gap> out;
  uint64_t cursor = kMinMapAddr;
  for (const auto& [start, region] : regions_) {
    if (region.start >= kMmapTop) break;
    if (region.start > cursor) out.push_back({cursor, region.start});
    if (region.end > cursor) cursor = region.end;
  }
  if (cursor < kMmapTop) out.push_back({cursor, kMmapTop});
  return out;
}

}  // namespace vmsim::tracegen
