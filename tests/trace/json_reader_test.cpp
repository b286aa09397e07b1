// The JSON reader on its own: values, positions, numbers, strings.
#include "trace/json_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace vmsim::json {
namespace {

Document parse_ok(std::string_view text) {
  auto r = parse(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << e->loc.line << ":" << e->loc.column << ": " << e->message;
    return {};
  }
  return std::get<Document>(std::move(r));
}

std::string error_of(std::string_view text) {
  auto r = parse(text);
  if (auto* e = std::get_if<ParseError>(&r)) {
    return std::to_string(e->loc.line) + ":" + std::to_string(e->loc.column) + ": " + e->message;
  }
  ADD_FAILURE() << "parsed: " << text;
  return "";
}

TEST(JsonReader, ValuesAndPositions) {
  Document doc = parse_ok("{\"a\": [1, true, null],\n  \"b\": {\"c\": \"x\"}, \"d\": false}");
  Value root = doc.root();
  ASSERT_EQ(root.type(), Type::kObject);
  EXPECT_EQ(root.loc().line, 1u);
  EXPECT_EQ(root.loc().column, 1u);

  std::vector<std::string_view> keys;
  for (Member m : root.members()) keys.push_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string_view>{"a", "b", "d"}));  // file order

  Value a = *root.find("a");
  EXPECT_EQ(a.loc().column, 7u);
  std::vector<Type> types;
  std::vector<uint32_t> columns;
  for (Value v : a.items()) {
    types.push_back(v.type());
    columns.push_back(v.loc().column);
  }
  EXPECT_EQ(types, (std::vector<Type>{Type::kNumber, Type::kBool, Type::kNull}));
  EXPECT_EQ(columns, (std::vector<uint32_t>{8, 11, 17}));

  Value c = *root.find("b")->find("c");
  EXPECT_EQ(c.text(), "x");
  EXPECT_EQ(c.loc().line, 2u);
  EXPECT_EQ(c.loc().column, 14u);
  Member b = *root.members().begin()++;
  EXPECT_EQ(b.key_loc.line, 1u);
  EXPECT_FALSE(root.find("d")->boolean());
  EXPECT_FALSE(root.find("zz").has_value());
}

TEST(JsonReader, ColumnsAreCodePoints) {
  // "é" is 2 bytes, "日" 3, "😀" 4: each one column.
  Document doc = parse_ok("[\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\", 7]");
  auto it = doc.root().items().begin();
  ++it;
  EXPECT_EQ((*it).loc().column, 9u);
}

TEST(JsonReader, ByteOrderMarkIsSkipped) {
  Document doc = parse_ok("\xef\xbb\xbf  [1]");
  EXPECT_EQ(doc.root().loc().column, 3u);
}

TEST(JsonReader, IntegersAreExact) {
  Document doc = parse_ok(
      "[0, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808, "
      "18446744073709551615, 18446744073709551616, -9223372036854775809, 1.0, 1e2, 2E-1]");
  std::vector<Value> v(doc.root().items().begin(), doc.root().items().end());
  ASSERT_EQ(v.size(), 11u);
  EXPECT_EQ(v[0].as_u64(), 0u);
  EXPECT_EQ(v[1].as_i64(), 0);
  EXPECT_EQ(v[2].as_i64(), INT64_MAX);
  EXPECT_EQ(v[2].as_u64(), uint64_t{INT64_MAX});
  EXPECT_EQ(v[3].as_i64(), INT64_MIN);
  EXPECT_FALSE(v[3].as_u64().has_value());
  EXPECT_EQ(v[4].number_class(), NumberClass::kUint64);
  EXPECT_EQ(v[4].as_u64(), uint64_t{1} << 63);
  EXPECT_FALSE(v[4].as_i64().has_value());
  EXPECT_EQ(v[5].as_u64(), UINT64_MAX);
  EXPECT_EQ(v[6].number_class(), NumberClass::kOutOfRange);
  EXPECT_EQ(v[7].number_class(), NumberClass::kOutOfRange);
  EXPECT_TRUE(v[5].is_integer());
  for (int i : {8, 9, 10}) {
    EXPECT_EQ(v[i].number_class(), NumberClass::kReal);
    EXPECT_FALSE(v[i].is_integer());
    EXPECT_FALSE(v[i].as_u64().has_value());
  }
  EXPECT_EQ(v[9].text(), "1e2");  // as written
}

TEST(JsonReader, StringEscapes) {
  Document doc = parse_ok(R"(["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u65e5\ud83d\ude00", "\u0000"])");
  std::vector<Value> v(doc.root().items().begin(), doc.root().items().end());
  EXPECT_EQ(v[0].text(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(v[1].text(), "A\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80");
  EXPECT_EQ(v[2].text(), std::string_view("\0", 1));
}

TEST(JsonReader, ManyKeysStayOrderedAndUnique) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i)
    text += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": " + std::to_string(i);
  Document doc = parse_ok(text + "}");
  int i = 0;
  for (Member m : doc.root().members()) {
    EXPECT_EQ(m.key, "k" + std::to_string(i));
    EXPECT_EQ(m.value.as_u64(), uint64_t(i));
    ++i;
  }
  EXPECT_EQ(i, 1000);
  EXPECT_EQ(error_of(text + ", \"k999\": 0}").substr(0, 7), "1:12782");
}

TEST(JsonReader, DuplicateKeysNameTheirPath) {
  EXPECT_EQ(error_of(R"({"a": [{}, {"b": {"c": 1, "c": 2}}]})"),
            R"(1:27: a[1].b.c: duplicate key "c" (first at 1:19))");
}

TEST(JsonReader, DepthLimit) {
  std::string ok = std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
  parse_ok(ok);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of(std::string(1'000'000, '[')),
            "1:65: syntax error: expected at most 64 nested arrays and objects, got more");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(JsonReader, LineBreaks) {
  EXPECT_EQ(error_of("[1,\r\n 2,\n\n   x]"),
            R"(4:4: syntax error: expected a JSON value, got "x")");
}

}  // namespace
}  // namespace vmsim::json
