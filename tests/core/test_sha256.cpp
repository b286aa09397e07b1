// SHA-256 against the FIPS 180-4 / NIST example vectors.
#include <gtest/gtest.h>

#include <string>

#include "lib/sha256.hpp"

namespace {

std::string hex(const vm::u8 d[32]) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    s += digits[d[i] >> 4];
    s += digits[d[i] & 15];
  }
  return s;
}

std::string sha(const std::string& msg) {
  vm::Sha256 h;
  h.update(msg.data(), msg.size());
  vm::u8 d[32];
  h.finish(d);
  return hex(d);
}

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                "klmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
  vm::Sha256 h;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk.data(), chunk.size());
  vm::u8 d[32];
  h.finish(d);
  EXPECT_EQ(hex(d), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Every split of a message into two or three updates, across the 55/56/64
// byte boundaries where padding and block handling change.
TEST(Sha256, IncrementalAcrossBlockBoundaries) {
  std::string msg;
  for (int i = 0; i < 200; ++i) msg += static_cast<char>('A' + i * 7 % 53);
  for (size_t len : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
    const std::string m = msg.substr(0, len);
    const std::string want = sha(m);
    for (size_t a = 0; a <= len; ++a) {
      const size_t b = a + (len - a) / 2;
      vm::Sha256 h;
      h.update(m.data(), a);
      h.update(m.data() + a, b - a);
      h.update(m.data() + b, len - b);
      vm::u8 d[32];
      h.finish(d);
      ASSERT_EQ(hex(d), want) << "len " << len << " split " << a << "/" << b;
    }
    vm::Sha256 bytewise;
    for (char c : m) bytewise.update(&c, 1);
    vm::u8 d[32];
    bytewise.finish(d);
    EXPECT_EQ(hex(d), want) << "bytewise len " << len;
  }
}

TEST(Sha256, ResetStartsOver) {
  vm::Sha256 h;
  h.update("garbage", 7);
  h.reset();
  h.update("abc", 3);
  vm::u8 d[32];
  h.finish(d);
  EXPECT_EQ(hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Where the CPU has SHA-NI the blocks go through it; the portable rounds
// must give the same digest for every length and content (and the NIST
// vectors above already ran on whichever path this CPU takes).
TEST(Sha256, HardwareAndPortableRoundsAgree) {
  if (!vm::Sha256::hardware_available()) GTEST_SKIP() << "no SHA-NI on this CPU";
  std::string msg;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 5000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    msg += static_cast<char>(x);
  }
  for (size_t len : {0u, 1u, 63u, 64u, 65u, 127u, 128u, 1000u, 4096u, 5000u}) {
    vm::Sha256 hw;
    vm::Sha256 portable;
    portable.use_portable();
    hw.update(msg.data(), len);
    portable.update(msg.data(), len);
    vm::u8 a[32];
    vm::u8 b[32];
    hw.finish(a);
    portable.finish(b);
    EXPECT_EQ(hex(a), hex(b)) << "len " << len;
  }
}

}  // namespace
