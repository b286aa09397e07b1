// The disk behind the trace's files: content is generated from the image's
// fill or seed (spec §2) until a page is written; written pages live in a
// hash table of 4 KiB buffers from the boot allocator.
#pragma once

#include <stdint.h>

#include "image/trace_image_reader.hpp"

namespace port {

class Disk {
 public:
  void init(const image::ImageReader& image);
  void read(uint32_t file, uint64_t page, uint8_t* buf) const;
  void write(uint32_t file, uint64_t page, const uint8_t* buf);
  void truncate(uint32_t file, uint64_t size);
  // Bytes from `size` to the end of its page become zero.
  void zero_page_tail(uint32_t file, uint64_t size);

 private:
  struct Slot {
    uint64_t key = 0;  // (file + 1) << 40 | page; 0: empty
    uint8_t* data = nullptr;
  };
  struct File {
    const image::ImageFile* spec = nullptr;
    uint64_t generated = 0;  // bytes below this come from fill/seed
  };

  static uint64_t key(uint32_t file, uint64_t page) { return (uint64_t{file} + 1) << 40 | page; }
  const Slot* find(uint64_t k) const;
  uint8_t generated_byte(const File& f, uint64_t offset) const;

  File* files_ = nullptr;
  uint32_t file_count_ = 0;
  Slot* slots_ = nullptr;
  uint64_t capacity_ = 0;  // power of two
  uint64_t used_ = 0;
};

}  // namespace port
