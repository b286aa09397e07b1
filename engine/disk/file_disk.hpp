// The disk behind a trace's files, the same on both machines: a file's
// pages read as its initial content (spec §2) until written; written pages
// live in an open-addressing table of 4 KiB buffers, which grows. Memory
// comes from the machine (DiskMemory): the host's heap in the simulator,
// the boot allocator on the port. Freestanding, like the core.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace disk {

// Zeroed memory aligned to `align`, kept until the run ends.
class DiskMemory {
 public:
  virtual void* allocate(size_t bytes, size_t align) = 0;

 protected:
  ~DiskMemory() = default;
};

// A file as the trace declares it.
struct DiskFile {
  uint64_t size = 0;
  uint64_t seed = 0;
  bool seeded = false;
  uint8_t fill = 0;
};

class FileDisk {
 public:
  // Files 0..count-1; `files` is copied.
  void init(const DiskFile* files, uint32_t count, DiskMemory& memory);

  void read(uint32_t file, uint64_t page, uint8_t* buf) const;
  void write(uint32_t file, uint64_t page, const uint8_t* buf);
  // Every byte at or past `size` reads zero from now on, written or not.
  void truncate(uint32_t file, uint64_t size);
  // Bytes from `size` to the end of its page become zero.
  void zero_page_tail(uint32_t file, uint64_t size);

 private:
  struct Slot {
    uint64_t key = 0;  // (file + 1) << 40 | page; 0: empty
    uint8_t* data = nullptr;
  };
  struct File {
    DiskFile spec;
    uint64_t generated = 0;  // bytes below this read the initial content
  };

  static uint64_t key(uint32_t file, uint64_t page) { return (uint64_t{file} + 1) << 40 | page; }
  Slot* find(uint64_t key) const;
  // The page's buffer, made (holding what the page reads now) if new.
  uint8_t* written_page(uint32_t file, uint64_t page);
  void grow();
  // The page as the file held it before any write (zero past `generated`).
  void initial_page(const File& f, uint64_t page, uint8_t* buf) const;

  DiskMemory* memory_ = nullptr;
  File* files_ = nullptr;
  uint32_t file_count_ = 0;
  Slot* slots_ = nullptr;
  uint64_t capacity_ = 0;  // a power of two
  uint64_t used_ = 0;
};

}  // namespace disk
