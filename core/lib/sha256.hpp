// SHA-256 (FIPS 180-4), freestanding, for the state digest.
#pragma once

#include "lib/types.hpp"

namespace vm {

// On an x86-64 host build with the SHA extensions (SHA-NI) the blocks go
// through them; the kernel build (general registers only) and CPUs without
// them take the portable rounds. Both give the same bytes.
class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void* data, size_t len);
  void finish(u8 out[32]);

  // Whether this build on this CPU hashes with SHA-NI.
  static bool hardware_available();
  // Tests: hash with the portable rounds even where SHA-NI is available.
  void use_portable() { hardware_ = false; }

 private:
  // Hashes `count` consecutive 64-byte blocks.
  void blocks(const u8* p, size_t count);
  void portable_block(const u8* p);
  void hardware_blocks(const u8* p, size_t count);  // defined in builds with SHA-NI only

  bool hardware_ = false;

  u32 h_[8];
  u8 buf_[64];
  size_t buf_len_;
  u64 total_len_;
};

}  // namespace vm
