// Damaged traces: every truncation and many one-byte edits of a valid trace
// must load or fail with a message, never crash, hang or throw. Run under
// ASan/UBSan in the sanitizer build.
#include <gtest/gtest.h>

#include <string>

#include "trace_test_util.hpp"

namespace vmsim {
namespace {

using testing::kFullTrace;

// Loads `text`, checks that a failure is a proper message, and says whether
// it loaded.
bool loads_or_explains(std::string_view text, size_t position) {
  auto r = load_trace_text(text, "fuzz.json");
  auto* e = std::get_if<LoadError>(&r);
  if (!e) return true;
  EXPECT_TRUE(e->message.starts_with("fuzz.json")) << position << ": " << e->message;
  EXPECT_GT(e->message.size(), std::string_view("fuzz.json: ").size()) << position;
  EXPECT_EQ(e->message.find('\n'), std::string::npos) << position << ": " << e->message;
  return false;
}

TEST(TraceRobustness, EveryTruncation) {
  // Only the whitespace after the closing brace may go.
  const size_t complete = kFullTrace.find_last_of('}') + 1;
  for (size_t i = 0; i < kFullTrace.size(); ++i) {
    EXPECT_EQ(loads_or_explains(kFullTrace.substr(0, i), i), i >= complete) << i;
  }
}

TEST(TraceRobustness, EveryByteReplaced) {
  // Structural characters, digits, letters, a quote, a backslash, a control
  // character and bytes that are never UTF-8 on their own. Each position gets
  // two of them, in rotation, which keeps the test fast under sanitizers
  // while every replacement still lands on every kind of byte.
  const char kReplacements[] = {'{', ']', ',', ':',  '"',    '\\',   '0',    '9', '-',
                                'x', '@', ' ', '\n', '\x01', '\x80', '\xff', '}'};
  constexpr size_t kCount = sizeof kReplacements;
  std::string text(kFullTrace);
  for (size_t i = 0; i < text.size(); ++i) {
    char original = text[i];
    for (size_t k = 0; k < 2; ++k) {
      text[i] = kReplacements[(i + k * 8) % kCount];
      loads_or_explains(text, i);
    }
    text[i] = original;
  }
}

}  // namespace
}  // namespace vmsim
