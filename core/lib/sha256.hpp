// SHA-256 (FIPS 180-4), freestanding, for the state digest.
#pragma once

#include "lib/types.hpp"

namespace vm {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void* data, size_t len);
  void finish(u8 out[32]);

 private:
  void block(const u8* p);

  u32 h_[8];
  u8 buf_[64];
  size_t buf_len_;
  u64 total_len_;
};

}  // namespace vm
