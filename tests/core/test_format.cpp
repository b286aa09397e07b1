// FixedString: the core's panic/audit message builder.
#include <gtest/gtest.h>

#include "lib/format.hpp"
#include "lib/list.hpp"

namespace {

using vm::FixedString;
using vm::Hex;

TEST(Format, NumbersAndStrings) {
  FixedString<128> s;
  s << "frame " << Hex{0x1f000} << " idx " << vm::u64{18446744073709551615ull} << " d " << -42
    << " z " << 0 << ' ' << true << ' ' << Hex{0xab, 4} << ' ' << static_cast<const char*>(nullptr);
  EXPECT_STREQ(s.c_str(), "frame 0x1f000 idx 18446744073709551615 d -42 z 0 true 0x00ab (null)");
  EXPECT_FALSE(s.truncated());
  FixedString<48> t;
  t.hex(0xdead, 16).append(' ').sdec(INT64_MIN);
  EXPECT_STREQ(t.c_str(), "000000000000dead -9223372036854775808");
}

TEST(Format, TruncationIsMarked) {
  FixedString<8> s;
  s << "abcdefghijk";
  EXPECT_TRUE(s.truncated());
  EXPECT_STREQ(s.c_str(), "abcd...");
  EXPECT_EQ(s.size(), 7u);
  s << "more";  // ignored once cut
  EXPECT_STREQ(s.c_str(), "abcd...");
  s.clear();
  s << "ok";
  EXPECT_STREQ(s.c_str(), "ok");
}

TEST(Format, LowLevelHelpers) {
  char buf[20];
  EXPECT_EQ(vm::format_hex(buf, 0, 1), 1u);
  EXPECT_EQ(buf[0], '0');
  EXPECT_EQ(vm::format_hex(buf, ~0ull, 1), 16u);
  EXPECT_EQ(vm::format_dec(buf, 1234567), 7u);
  EXPECT_EQ(std::string(buf, 7), "1234567");
}

// Containers and formatters with static storage are constant-initialized:
// the core has no global constructors.
struct Item {
  vm::ListNode link;
};
constinit vm::List<Item, &Item::link> g_list;
constinit FixedString<16> g_message;

TEST(Format, ConstantInitialized) {
  EXPECT_TRUE(g_list.empty());
  EXPECT_EQ(g_list.check(), nullptr);
  EXPECT_STREQ(g_message.c_str(), "");
}

}  // namespace
