// The simulator's disk: the trace's files (spec §2 content) plus every page
// written since, page by page. Nothing here knows about the VM: the core's
// vnode pager reads and writes it through the platform.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "trace/trace.hpp"

namespace vmsim {

class SimDisk {
 public:
  // File ids are positions in `files`.
  explicit SimDisk(const std::vector<FileSpec>& files);

  void read(uint32_t file, uint64_t page, uint8_t* buf) const;
  void write(uint32_t file, uint64_t page, const uint8_t* buf);
  void truncate(uint32_t file, uint64_t size);
  // Bytes from `size` to the end of its page become zero.
  void zero_page_tail(uint32_t file, uint64_t size);
  // The swap device: slots read as zero until written.
  void swap_read(uint64_t slot, uint8_t* buf) const;
  void swap_write(uint64_t slot, const uint8_t* buf);

 private:
  struct Disk {
    const FileSpec* spec;
    // Bytes below `generated` come from the spec's content unless a page was
    // written; bytes at or past it were truncated away (zero).
    uint64_t generated;
    std::map<uint64_t, std::array<uint8_t, 4096>> written;
  };
  uint8_t generated_byte(const Disk& d, uint64_t offset) const;

  std::vector<Disk> disks_;
  std::map<uint64_t, std::array<uint8_t, 4096>> swap_;
};

}  // namespace vmsim
