// The disk behind the trace's files: the engine's FileDisk (engine/disk),
// with its memory from the boot allocator.
#pragma once

#include "disk/file_disk.hpp"
#include "image/trace_image_reader.hpp"

namespace port {

class Disk : public disk::FileDisk, private disk::DiskMemory {
 public:
  void init(const image::ImageReader& image);

 private:
  void* allocate(size_t bytes, size_t align) override;
};

}  // namespace port
