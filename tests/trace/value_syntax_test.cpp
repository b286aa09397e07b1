// The string forms of sizes, hex values, addresses, protections and names.
#include "trace/value_syntax.hpp"

#include <gtest/gtest.h>

namespace vmsim {
namespace {

uint64_t size_of(std::string_view s) {
  uint64_t v = 0;
  EXPECT_EQ(decode_size(s, &v), Decoded::kOk) << s;
  return v;
}

TEST(ValueSyntax, Sizes) {
  EXPECT_EQ(size_of("0"), 0u);
  EXPECT_EQ(size_of("4096"), 4096u);
  EXPECT_EQ(size_of("0x1000"), 4096u);
  EXPECT_EQ(size_of("0xfFfF"), 0xffffu);
  EXPECT_EQ(size_of("64KiB"), 65536u);
  EXPECT_EQ(size_of("2MiB"), 2u << 20);
  EXPECT_EQ(size_of("3GiB"), 3ull << 30);
  EXPECT_EQ(size_of("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(size_of("17179869183GiB"), 17179869183ull << 30);

  uint64_t v;
  for (const char* bad :
       {"",     "0x",  "0X10",    "x10", "12 pages", "-1", "+1", "1.5MiB", "1e3",  "64kib",
        "64KB", "64K", "0x10KiB", "KiB", "007",      " 1", "1 ", "1_000",  "0x1g", "@a"}) {
    EXPECT_EQ(decode_size(bad, &v), Decoded::kInvalid) << bad;
  }
  for (const char* big : {"18446744073709551616", "0x10000000000000000", "17179869184GiB",
                          "99999999999999999999999"}) {
    EXPECT_EQ(decode_size(big, &v), Decoded::kOverflow) << big;
  }
}

TEST(ValueSyntax, Hex) {
  uint64_t v = 0;
  EXPECT_EQ(decode_hex("0x0000000000000000000000001", &v), Decoded::kOk);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(decode_hex("0xFFFFFFFFFFFFFFFF", &v), Decoded::kOk);
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_EQ(decode_hex("4096", &v), Decoded::kInvalid);
  EXPECT_EQ(decode_hex("0x", &v), Decoded::kInvalid);
}

TEST(ValueSyntax, Addresses) {
  AddrExpr a;
  ASSERT_EQ(decode_address("0x7f0000001000", &a), Decoded::kOk);
  EXPECT_FALSE(a.is_label());
  EXPECT_EQ(a.offset, 0x7f0000001000u);
  ASSERT_EQ(decode_address("@buf", &a), Decoded::kOk);
  EXPECT_EQ(a.label, "buf");
  EXPECT_EQ(a.offset, 0u);
  ASSERT_EQ(decode_address("@buf+0x2000", &a), Decoded::kOk);
  EXPECT_EQ(a.offset, 0x2000u);
  ASSERT_EQ(decode_address("@my.buf-2+4096", &a), Decoded::kOk);
  EXPECT_EQ(a.label, "my.buf-2");
  EXPECT_EQ(a.offset, 4096u);

  for (const char* bad : {"4096", "", "@", "@+1", "@1a", "@a+", "@a+-1", "@a+1KiB", "@a+01",
                          "@a+1+2", "@a b", "0x"}) {
    EXPECT_EQ(decode_address(bad, &a), Decoded::kInvalid) << bad;
  }
  EXPECT_EQ(decode_address("@a+18446744073709551616", &a), Decoded::kOverflow);
}

TEST(ValueSyntax, Prot) {
  EXPECT_EQ(decode_prot(""), 0);
  EXPECT_EQ(decode_prot("r"), kR);
  EXPECT_EQ(decode_prot("wr"), kR | kW);
  EXPECT_EQ(decode_prot("xwr"), kR | kW | kX);
  for (const char* bad : {"rr", "R", "rwxr", "-", "r-x", " r"}) {
    EXPECT_FALSE(decode_prot(bad).has_value()) << bad;
  }
}

TEST(ValueSyntax, Names) {
  for (const char* ok : {"a", "_", "A9", "worker.1", "x-y_z", "_.-"})
    EXPECT_TRUE(is_name(ok)) << ok;
  EXPECT_TRUE(is_name(std::string(64, 'n')));
  for (const char* bad : {"", "1a", ".a", "-a", "a b", "a+b", "a/b", "caf\xc3\xa9"}) {
    EXPECT_FALSE(is_name(bad)) << bad;
  }
  EXPECT_FALSE(is_name(std::string(65, 'n')));
}

}  // namespace
}  // namespace vmsim
