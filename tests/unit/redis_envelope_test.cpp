#include "cluster/redis/redis_envelope.hpp"

#include <string>

#include <gtest/gtest.h>

namespace parley::cluster {
namespace {

TEST(RedisEnvelope, RoundTrip) {
  for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{0xdeadbeef}, ~std::uint64_t{0}}) {
    for (std::string payload : {std::string(), std::string("{\"a\":1}"), std::string("x\0y", 3)}) {
      const std::string wire = wrap_publication(id, payload);
      EXPECT_EQ(wire.size(), kEnvelopeHeaderBytes + payload.size());
      const auto p = unwrap_publication(wire);
      ASSERT_TRUE(p.has_value());
      EXPECT_EQ(p->node_id, id);
      EXPECT_EQ(p->payload, payload);
    }
  }
}

TEST(RedisEnvelope, RejectsWhatItDidNotMake) {
  for (const char* bad :
       {"", "0123456789abcde", "0123456789abcdef", "0123456789abcdefX", "0123456789ABCDEF payload",
        "0123456789abcdeg payload", "-123456789abcdef payload"}) {
    EXPECT_FALSE(unwrap_publication(bad).has_value()) << bad;
  }
}

TEST(RedisEnvelope, NodeIdsDiffer) {
  EXPECT_NE(random_node_id(), random_node_id());
}

}  // namespace
}  // namespace parley::cluster
