#include "disk.hpp"

#include "memory.hpp"

namespace port {

void Disk::init(const image::ImageReader& image) {
  const auto count = static_cast<uint32_t>(image.count(image::kFiles));
  disk::DiskFile* files = boot_alloc_array<disk::DiskFile>(count + 1);
  for (uint32_t i = 0; i < count; ++i) {
    const image::ImageFile& f = image.file(i);
    files[i] = disk::DiskFile{f.size, f.seed, f.seeded != 0, static_cast<uint8_t>(f.fill)};
  }
  FileDisk::init(files, count, *this);
}

void* Disk::allocate(size_t bytes, size_t align) {
  return boot_alloc(bytes, align);  // zeroed
}

}  // namespace port
