// The platform seam's file-disk calls answered by a FileDisk: the
// simulator's and the port's platforms derive from this rather than from
// vm::Platform, so the forwarding lives once.
#pragma once

#include "disk/file_disk.hpp"
#include "platform.hpp"

namespace disk {

class FileDiskPlatform : public vm::Platform {
 public:
  void disk_read(vm::u32 file, vm::u64 page, vm::u8* buf) override { files_.read(file, page, buf); }
  void disk_write(vm::u32 file, vm::u64 page, const vm::u8* buf) override {
    files_.write(file, page, buf);
  }
  void disk_truncate(vm::u32 file, vm::u64 size) override { files_.truncate(file, size); }
  void disk_zero_page_tail(vm::u32 file, vm::u64 size) override {
    files_.zero_page_tail(file, size);
  }

 protected:
  FileDiskPlatform(vm::u8* phys_base, FileDisk& files) : Platform(phys_base), files_(files) {}
  ~FileDiskPlatform() = default;

 private:
  FileDisk& files_;
};

}  // namespace disk
