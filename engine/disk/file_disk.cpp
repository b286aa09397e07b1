#include "disk/file_disk.hpp"

#include "image/file_content.hpp"

namespace disk {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kInitialSlots = 1024;

}  // namespace

void FileDisk::init(const DiskFile* files, uint32_t count, DiskMemory& memory) {
  memory_ = &memory;
  file_count_ = count;
  files_ = static_cast<File*>(memory.allocate((count + 1) * sizeof(File), alignof(File)));
  for (uint32_t i = 0; i < count; ++i) files_[i] = File{files[i], files[i].size};
  capacity_ = kInitialSlots;
  slots_ = static_cast<Slot*>(memory.allocate(capacity_ * sizeof(Slot), alignof(Slot)));
  used_ = 0;
}

void FileDisk::initial_page(const File& f, uint64_t page, uint8_t* buf) const {
  image::file_content_fill_until(f.spec.seeded, f.spec.seed, f.spec.fill, f.generated, page * kPage,
                                 buf, kPage);
}

FileDisk::Slot* FileDisk::find(uint64_t k) const {
  for (uint64_t i = (k * 0x9e3779b97f4a7c15ull) >> 40;; ++i) {
    Slot& s = slots_[i & (capacity_ - 1)];
    if (s.key == k || s.key == 0) return &s;
  }
}

// Doubles the table at three quarters full (the old one stays with the
// machine's memory: the port's boot allocator frees nothing).
void FileDisk::grow() {
  const Slot* old = slots_;
  const uint64_t old_capacity = capacity_;
  capacity_ *= 2;
  slots_ = static_cast<Slot*>(memory_->allocate(capacity_ * sizeof(Slot), alignof(Slot)));
  for (uint64_t i = 0; i < old_capacity; ++i)
    if (old[i].key != 0) *find(old[i].key) = old[i];
}

uint8_t* FileDisk::written_page(uint32_t file, uint64_t page) {
  Slot* s = find(key(file, page));
  if (s->key != 0) return s->data;
  if ((used_ + 1) * 4 > capacity_ * 3) {
    grow();
    s = find(key(file, page));
  }
  s->key = key(file, page);
  s->data = static_cast<uint8_t*>(memory_->allocate(kPage, kPage));
  ++used_;
  initial_page(files_[file], page, s->data);
  return s->data;
}

void FileDisk::read(uint32_t file, uint64_t page, uint8_t* buf) const {
  const Slot* s = find(key(file, page));
  if (s->key == 0) {
    initial_page(files_[file], page, buf);
    return;
  }
  for (uint64_t b = 0; b < kPage; ++b) buf[b] = s->data[b];
}

void FileDisk::write(uint32_t file, uint64_t page, const uint8_t* buf) {
  uint8_t* data = written_page(file, page);
  for (uint64_t b = 0; b < kPage; ++b) data[b] = buf[b];
}

void FileDisk::zero_page_tail(uint32_t file, uint64_t size) {
  if (size % kPage == 0) return;
  const uint64_t page = size / kPage;
  // A page never written whose initial content ends before `size` reads
  // zero there already.
  if (find(key(file, page))->key == 0 && files_[file].generated <= size) return;
  uint8_t* data = written_page(file, page);
  for (uint64_t b = size % kPage; b < kPage; ++b) data[b] = 0;
}

// Written pages are kept, with every byte at or past `size` cleared: that
// is what the file holds there until it is written again.
void FileDisk::truncate(uint32_t file, uint64_t size) {
  File& f = files_[file];
  if (size < f.generated) f.generated = size;
  for (uint64_t i = 0; i < capacity_; ++i) {
    Slot& s = slots_[i];
    if (s.key == 0 || (s.key >> 40) != uint64_t{file} + 1) continue;
    const uint64_t start = (s.key & ((uint64_t{1} << 40) - 1)) * kPage;
    for (uint64_t b = 0; b < kPage; ++b)
      if (start + b >= size) s.data[b] = 0;
  }
}

}  // namespace disk
