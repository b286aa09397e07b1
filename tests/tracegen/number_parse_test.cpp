#include "number_parse.hpp"

#include <gtest/gtest.h>

namespace vmsim::tracegen {
namespace {

TEST(NumberParse, Uint) {
  EXPECT_EQ(parse_uint("0"), 0u);
  EXPECT_EQ(parse_uint("42"), 42u);
  EXPECT_EQ(parse_uint("0x1F"), 31u);
  EXPECT_EQ(parse_uint("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_uint("18446744073709551616"));
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint("+1"));
  EXPECT_FALSE(parse_uint(""));
  EXPECT_FALSE(parse_uint("0x"));
  EXPECT_FALSE(parse_uint("12abc"));
  EXPECT_FALSE(parse_uint(" 1"));
}

TEST(NumberParse, Size) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("0x1000"), 4096u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("64MiB"), 64ull << 20);
  EXPECT_EQ(parse_size("2GiB"), 2ull << 30);
  EXPECT_FALSE(parse_size("KiB"));
  EXPECT_FALSE(parse_size("1.5MiB"));
  EXPECT_FALSE(parse_size("0x10KiB"));
  EXPECT_FALSE(parse_size("64kib"));
  EXPECT_FALSE(parse_size("99999999999999999GiB"));
}

}  // namespace
}  // namespace vmsim::tracegen
