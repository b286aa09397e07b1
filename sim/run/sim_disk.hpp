// The simulator's disk: the trace's files on the engine's FileDisk
// (engine/disk, the port's too), its memory from the host heap, and a swap
// device whose slots read zero until written. Nothing here knows about the
// VM: the core's pagers read and write it through the platform.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "disk/file_disk.hpp"
#include "trace/trace.hpp"

namespace vmsim {

class SimDisk final : private disk::DiskMemory {
 public:
  // File ids are positions in `files`.
  explicit SimDisk(const std::vector<FileSpec>& files);
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  disk::FileDisk& files() { return files_; }
  // The swap device: slots read as zero until written.
  void swap_read(uint64_t slot, uint8_t* buf) const;
  void swap_write(uint64_t slot, const uint8_t* buf);

 private:
  struct Free {
    void operator()(void* p) const;
  };
  void* allocate(size_t bytes, size_t align) override;

  std::vector<std::unique_ptr<void, Free>> memory_;  // what files_ was given
  disk::FileDisk files_;
  std::map<uint64_t, std::array<uint8_t, 4096>> swap_;
};

}  // namespace vmsim
