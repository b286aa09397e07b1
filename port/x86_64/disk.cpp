#include "disk.hpp"

#include "console.hpp"
#include "memory.hpp"

namespace port {
namespace {

uint64_t mix(uint64_t x) {  // spec §2
  uint64_t z = x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

void Disk::init(const image::ImageReader& image) {
  file_count_ = static_cast<uint32_t>(image.count(image::kFiles));
  files_ = boot_alloc_array<File>(file_count_ + 1);
  for (uint32_t i = 0; i < file_count_; ++i) files_[i] = File{&image.file(i), image.file(i).size};
  capacity_ = 1 << 14;
  slots_ = boot_alloc_array<Slot>(capacity_);
}

uint8_t Disk::generated_byte(const File& f, uint64_t offset) const {
  if (offset >= f.generated) return 0;
  if (!f.spec->seeded) return static_cast<uint8_t>(f.spec->fill);
  return static_cast<uint8_t>(mix(f.spec->seed + offset / 8) >> (8 * (offset % 8)));
}

const Disk::Slot* Disk::find(uint64_t k) const {
  for (uint64_t i = (k * 0x9e3779b97f4a7c15ull) >> 50;; i = (i + 1) & (capacity_ - 1)) {
    const Slot& s = slots_[i & (capacity_ - 1)];
    if (s.key == k || s.key == 0) return &s;
  }
}

void Disk::read(uint32_t file, uint64_t page, uint8_t* buf) const {
  const Slot* s = find(key(file, page));
  if (s->key != 0) {
    for (int i = 0; i < 4096; ++i) buf[i] = s->data[i];
    return;
  }
  for (uint64_t i = 0; i < 4096; ++i) buf[i] = generated_byte(files_[file], page * 4096 + i);
}

void Disk::write(uint32_t file, uint64_t page, const uint8_t* buf) {
  Slot* s = const_cast<Slot*>(find(key(file, page)));
  if (s->key == 0) {
    if (used_ * 4 >= capacity_ * 3) kpanic("disk: too many written pages");
    s->key = key(file, page);
    s->data = static_cast<uint8_t*>(boot_alloc(4096, 4096));
    ++used_;
  }
  for (int i = 0; i < 4096; ++i) s->data[i] = buf[i];
}

// Written pages are kept, with every byte at or past `size` cleared: that is
// what the file holds there until it is written again.
void Disk::truncate(uint32_t file, uint64_t size) {
  File& f = files_[file];
  if (size < f.generated) f.generated = size;
  for (uint64_t i = 0; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (s.key == 0 || (s.key >> 40) != uint64_t{file} + 1) continue;
    const uint64_t start = (s.key & ((uint64_t{1} << 40) - 1)) * 4096;
    for (uint64_t b = 0; b < 4096; ++b)
      if (start + b >= size) s.data[b] = 0;
  }
}

}  // namespace port
