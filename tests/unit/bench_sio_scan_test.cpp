#include "parley-bench/sio_scan.hpp"

#include <map>
#include <string>

#include <gtest/gtest.h>

namespace parley::bench {
namespace {

TEST(BenchSioScan, PacketHeaders) {
  auto p = parse_sio_packet(R"(2["message:received",{"message":{}}])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, '2');
  EXPECT_FALSE(p->id);
  EXPECT_EQ(p->data, R"(["message:received",{"message":{}}])");

  p = parse_sio_packet(R"(31234[{"ok":true}])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, '3');
  EXPECT_EQ(p->id, 1234U);
  EXPECT_EQ(p->data, R"([{"ok":true}])");

  p = parse_sio_packet(R"(0{"sid":"abc"})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, '0');
  EXPECT_EQ(p->data, R"({"sid":"abc"})");

  p = parse_sio_packet(R"(2/chat,7["x"])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nsp, "/chat");
  EXPECT_EQ(p->id, 7U);

  const std::string_view disconnect = "1/chat";
  p = parse_sio_packet(disconnect);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nsp, "/chat");
  EXPECT_TRUE(p->data.empty());
  EXPECT_EQ(p->data.data(), disconnect.data() + disconnect.size()) << "an empty view at the end";

  p = parse_sio_packet(R"(51-["x",{"_placeholder":true,"num":0}])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, '5');

  EXPECT_FALSE(parse_sio_packet(""));
  EXPECT_FALSE(parse_sio_packet("9"));
  EXPECT_FALSE(parse_sio_packet("399999999999[]"));  // ack id over 32 bits
  EXPECT_FALSE(parse_sio_packet("5x[]"));
}

TEST(BenchSioScan, EventNameAndFirstArgument) {
  auto ev = parse_event(R"(["message:received",{"message":{"_id":"x"}},2])");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->name, "message:received");
  EXPECT_EQ(ev->first_arg, R"({"message":{"_id":"x"}})");

  ev = parse_event(R"([ "typing" ])");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->name, "typing");
  EXPECT_TRUE(ev->first_arg.empty());

  EXPECT_FALSE(parse_event(R"({"a":1})"));
  EXPECT_FALSE(parse_event(R"([1,2])"));
  EXPECT_FALSE(parse_event(R"(["unterminated)"));
  EXPECT_FALSE(parse_event(R"(["x",{"a":1)"));
}

std::map<std::string, std::string> members(std::string_view object) {
  std::map<std::string, std::string> out;
  const bool ok = for_each_member(object, [&](std::string_view k, std::string_view v) {
    out.emplace(k, v);
    return true;
  });
  if (!ok) out.emplace("<malformed>", "");
  return out;
}

TEST(BenchSioScan, MembersAreFoundOnlyAtTheTopLevel) {
  // Keys that look like the wanted one inside strings and nested values.
  const std::string_view message =
      R"({"_id":"65f0a1b2c3d4e5f6a7b8c9d0","text":"\"tempId\":\"fake\" \\","nested":{"tempId":"no"},)"
      R"("list":[{"tempId":"no"},"]",{}],"seq":42,"read":false,"readAt":null,"tempId":"7.123"})";
  const auto m = members(message);
  EXPECT_EQ(m.at("_id"), "65f0a1b2c3d4e5f6a7b8c9d0");
  EXPECT_EQ(m.at("text"), R"(\"tempId\":\"fake\" \\)");
  EXPECT_EQ(m.at("nested"), R"({"tempId":"no"})");
  EXPECT_EQ(m.at("seq"), "42");
  EXPECT_EQ(m.at("readAt"), "null");
  EXPECT_EQ(m.at("tempId"), "7.123");
  EXPECT_EQ(find_member(message, "tempId"), "7.123");
  EXPECT_EQ(find_member(message, "missing"), std::nullopt);
  EXPECT_EQ(members(" { } ").size(), 0U);
  EXPECT_EQ(members(R"( { "a" : 1 , "b" : "x" } )").at("b"), "x");
}

TEST(BenchSioScan, MalformedObjectsAreRefused) {
  for (std::string_view bad :
       {"", "[]", "{", R"({"a")", R"({"a":})", R"({"a":1,})", R"({"a":"x)", R"({"a":{"b":1})",
        R"({"a":[1,2})", R"({"a":1 "b":2})", R"({a:1})"}) {
    EXPECT_TRUE(members(bad).contains("<malformed>")) << bad;
  }
}

TEST(BenchSioScan, NestingIsBounded) {
  std::string deep;
  for (std::size_t i = 0; i < kMaxScanDepth; ++i) deep += '[';
  for (std::size_t i = 0; i < kMaxScanDepth; ++i) deep += ']';
  EXPECT_EQ(skip_json_value(deep, 0), deep.size());
  EXPECT_EQ(skip_json_value("[" + deep + "]", 0), std::string_view::npos);
}

TEST(BenchSioScan, Numbers) {
  EXPECT_EQ(parse_u64("0"), 0U);
  EXPECT_EQ(parse_u64("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("12a"));
  EXPECT_FALSE(parse_u64("-1"));
}

}  // namespace
}  // namespace parley::bench
