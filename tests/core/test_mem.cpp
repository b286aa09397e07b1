// lib/mem.hpp: mem_is_zero finds a single non-zero byte wherever it lies,
// on its vector path (64 bytes at a time) and in the tail after it.
#include <gtest/gtest.h>

#include <vector>

#include "lib/mem.hpp"

namespace {

TEST(MemIsZero, FindsEveryNonZeroByte) {
  for (size_t n : {0u, 1u, 7u, 8u, 63u, 64u, 65u, 130u, 4096u}) {
    std::vector<vm::u8> buf(n + 1, 0);  // one byte past the length, never looked at
    buf[n] = 0xff;
    EXPECT_TRUE(vm::mem_is_zero(buf.data(), n)) << n;
    for (size_t at = 0; at < n; ++at) {
      buf[at] = 0x01;
      ASSERT_FALSE(vm::mem_is_zero(buf.data(), n)) << "length " << n << ", byte " << at;
      buf[at] = 0;
    }
  }
}

TEST(MemIsZero, UnalignedStart) {
  std::vector<vm::u8> buf(4096 + 64, 0);
  for (size_t offset = 1; offset < 16; ++offset) {
    EXPECT_TRUE(vm::mem_is_zero(buf.data() + offset, 4096));
    buf[offset + 4095] = 0x80;
    EXPECT_FALSE(vm::mem_is_zero(buf.data() + offset, 4096)) << offset;
    buf[offset + 4095] = 0;
  }
}

}  // namespace
