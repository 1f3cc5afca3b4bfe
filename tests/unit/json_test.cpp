#include "core/json.hpp"

#include <string>

#include <gtest/gtest.h>

#include "socketio/codec.hpp"

namespace {

using parley::core::JsonParseError;
using parley::core::parse_json;

std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(Json, ParsesValuesWithinTheDepthLimit) {
  rapidjson::Document doc;
  ASSERT_EQ(parse_json(doc, R"({"a":[1,{"b":"c"}],"d":null})", 64), JsonParseError::none);
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["a"][1]["b"].GetString(), "c");
  EXPECT_EQ(parse_json(doc, nested(64), 64), JsonParseError::none);
  EXPECT_TRUE(doc.IsArray());
  EXPECT_EQ(parse_json(doc, " 42 \n", 64), JsonParseError::none);
  EXPECT_EQ(doc.GetInt(), 42);
}

TEST(Json, RefusesOneLevelTooDeep) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json(doc, nested(65), 64), JsonParseError::too_deep);
  EXPECT_TRUE(doc.IsNull());
  EXPECT_EQ(parse_json(doc, nested(65, '{', '}'), 64), JsonParseError::syntax);  // {{ is bad JSON
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += R"({"a":)";
  objects += "1" + std::string(65, '}');
  EXPECT_EQ(parse_json(doc, objects, 64), JsonParseError::too_deep);
}

// The input that overflowed an I/O thread's stack: hundreds of thousands of
// unclosed brackets. Refused at the limit, without recursion.
TEST(Json, HugeNestingIsRefusedWithoutRecursion) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json(doc, std::string(300000, '['), 64), JsonParseError::too_deep);
  EXPECT_EQ(parse_json(doc, nested(300000), 1000), JsonParseError::too_deep);
}

TEST(Json, RefusesWhatJsonParseRefuses) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json(doc, "", 64), JsonParseError::syntax);
  EXPECT_EQ(parse_json(doc, "[1] x", 64), JsonParseError::syntax);
  EXPECT_EQ(parse_json(doc, std::string("[1]\0", 4), 64), JsonParseError::syntax);
  EXPECT_EQ(parse_json(doc, "{\"a\":1,}", 64), JsonParseError::syntax);
  EXPECT_EQ(parse_json(doc, "\"\xff\"", 64), JsonParseError::syntax);  // not UTF-8
}

TEST(SocketIoCodec, PayloadNestingIsBounded) {
  namespace sio = parley::socketio;
  EXPECT_TRUE(sio::decode("2[\"e\"," + nested(10) + "]", {10, 64}));
  EXPECT_FALSE(sio::decode("2[\"e\"," + nested(70) + "]", {10, 64}));
  EXPECT_FALSE(sio::decode("42" + std::string(200000, '['), {10, 64}));
  EXPECT_FALSE(sio::decode("0" + std::string(300000, '['), {10, 64}));
}

}  // namespace
