// What RedisBroker promises beyond the contract's suite (broker_test.cpp):
// each node gets each publication once (its own echo from Redis is not
// delivered again), it reconnects by itself after Redis restarts, and
// publish() and this node's own deliveries go on while Redis is down or
// does not answer.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/redis/redis_broker.hpp"
#include "received.hpp"
#include "test_redis.hpp"

namespace parley::cluster {
namespace {

using test::kEventDeadline;
using test::Received;
using test::wait_until;

std::unique_ptr<RedisBroker> make_node(const std::string& url, const std::string& prefix) {
  return std::make_unique<RedisBroker>(test::test_broker_options(url, prefix));
}

// Publishes `count` payloads on another thread; true when that finished
// before the deadline (publish() never waited for the network).
bool publishes_without_waiting(Broker& broker, const std::string& channel, int count,
                               const std::string& last) {
  auto publishing = std::async(std::launch::async, [&] {
    for (int i = 0; i < count; ++i) broker.publish(channel, std::to_string(i));
    broker.publish(channel, last);
  });
  return publishing.wait_for(kEventDeadline) == std::future_status::ready;
}

TEST(RedisBroker, EachNodeGetsEachPublicationOnce) {
  auto url = test::shared_redis_url();
  PARLEY_REQUIRE_REDIS(url ? std::string() : url.error());
  const std::string prefix = test::unique_prefix();
  Received on_a, on_b;  // outlive the brokers, which call into them
  auto a = make_node(*url, prefix);
  auto b = make_node(*url, prefix);
  a->subscribe("c", [&](const std::string& p) { on_a.add(p); });
  b->subscribe("c", [&](const std::string& p) { on_b.add(p); });
  ASSERT_TRUE(a->wait_connected(true, kEventDeadline));
  ASSERT_TRUE(b->wait_connected(true, kEventDeadline));

  // Redis sends a node its own echo of "from-a" before anything published
  // after it: once b's reply to it reaches a, any echo delivered twice
  // would be in a's log already. Likewise the other way round.
  a->publish("c", "from-a");
  ASSERT_TRUE(on_b.wait_for("from-a"));
  b->publish("c", "from-b");
  ASSERT_TRUE(on_a.wait_for("from-b"));
  a->publish("c", "again-a");
  ASSERT_TRUE(on_b.wait_for("again-a"));
  ASSERT_TRUE(on_a.wait_for("again-a"));  // delivered here on a's own thread
  EXPECT_EQ(on_a.items(), (std::vector<std::string>{"from-a", "from-b", "again-a"}));
  EXPECT_EQ(on_b.items(), (std::vector<std::string>{"from-a", "from-b", "again-a"}));
  EXPECT_EQ(a->stats().received.load(), 1U);
  EXPECT_EQ(b->stats().received.load(), 2U);
}

TEST(RedisBroker, DeploymentsWithOtherPrefixesDoNotHearEachOther) {
  auto url = test::shared_redis_url();
  PARLEY_REQUIRE_REDIS(url ? std::string() : url.error());
  const std::string our_prefix = test::unique_prefix();
  const std::string their_prefix = test::unique_prefix();
  Received on_ours, on_theirs;
  auto ours = make_node(*url, our_prefix);
  auto our_publisher = make_node(*url, our_prefix);
  auto theirs = make_node(*url, their_prefix);
  auto their_publisher = make_node(*url, their_prefix);
  ours->subscribe("c", [&](const std::string& p) { on_ours.add(p); });
  theirs->subscribe("c", [&](const std::string& p) { on_theirs.add(p); });
  for (auto* node : {ours.get(), our_publisher.get(), theirs.get(), their_publisher.get()}) {
    ASSERT_TRUE(node->wait_connected(true, kEventDeadline));
  }
  their_publisher->publish("c", "theirs");
  ASSERT_TRUE(on_theirs.wait_for("theirs"));
  // Redis handled "theirs" before "ours", so had it gone to our
  // subscription too, it would have come first.
  our_publisher->publish("c", "ours");
  ASSERT_TRUE(on_ours.wait_for("ours"));
  EXPECT_EQ(on_ours.items(), (std::vector<std::string>{"ours"}));
  EXPECT_EQ(on_theirs.items(), (std::vector<std::string>{"theirs"}));
}

TEST(RedisBroker, ReconnectsAfterRedisRestarts) {
  test::PrivateRedis redis;
  PARLEY_REQUIRE_REDIS(redis.error());
  const std::string prefix = test::unique_prefix();
  Received on_a, on_b;
  auto a = make_node(redis.url(), prefix);
  auto b = make_node(redis.url(), prefix);
  a->subscribe("c", [&](const std::string& p) { on_a.add(p); });
  b->subscribe("c", [&](const std::string& p) { on_b.add(p); });
  ASSERT_TRUE(a->wait_connected(true, kEventDeadline));
  ASSERT_TRUE(b->wait_connected(true, kEventDeadline));
  a->publish("c", "before");
  ASSERT_TRUE(on_b.wait_for("before"));

  redis.kill();
  ASSERT_TRUE(a->wait_connected(false, kEventDeadline));
  ASSERT_TRUE(b->wait_connected(false, kEventDeadline));
  // Down: this node's own subscribers still get what it publishes.
  a->publish("c", "while-down");
  ASSERT_TRUE(on_a.wait_for("while-down"));

  ASSERT_EQ(redis.start(), "");  // the same port
  ASSERT_TRUE(a->wait_connected(true, kEventDeadline));
  ASSERT_TRUE(b->wait_connected(true, kEventDeadline));
  a->publish("c", "after");
  ASSERT_TRUE(on_b.wait_for("after"));
  b->publish("c", "reply");
  ASSERT_TRUE(on_a.wait_for("reply"));
  // Once each: "while-down" was delivered here when published, and its
  // echo (it was sent after the reconnect) was recognised and dropped.
  EXPECT_EQ(on_a.items(), (std::vector<std::string>{"before", "while-down", "after", "reply"}));
  EXPECT_GE(a->stats().connects.load(), 2U);
  EXPECT_GE(b->stats().connects.load(), 2U);
}

TEST(RedisBroker, PublishNeverBlocksWhileRedisIsDown) {
  test::PrivateRedis redis;
  PARLEY_REQUIRE_REDIS(redis.error());
  auto options = test::test_broker_options(redis.url(), test::unique_prefix());
  options.max_queued = 100;
  Received got;
  RedisBroker broker(options);
  broker.subscribe("c", [&](const std::string& p) {
    if (p == "last") got.add(p);
  });
  ASSERT_TRUE(broker.wait_connected(true, kEventDeadline));
  redis.kill();
  ASSERT_TRUE(broker.wait_connected(false, kEventDeadline));

  constexpr int kCount = 10'000;  // far beyond the queue's bound
  ASSERT_TRUE(publishes_without_waiting(broker, "c", kCount, "last"));
  ASSERT_TRUE(got.wait_for("last"));  // this node's subscribers: every one
  // The queue for Redis kept only the newest max_queued.
  EXPECT_GE(broker.stats().queue_dropped.load(), static_cast<std::uint64_t>(kCount + 1 - 100));
}

// A Redis that takes the connection and never answers (a frozen host): the
// connection thread waits on it, publishers do not.
TEST(RedisBroker, PublishAndLocalDeliveryGoOnWhileRedisDoesNotAnswer) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);  // never accepted: the kernel completes the handshake
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "redis://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  {
    Received got;
    RedisBroker broker(test::test_broker_options(url, test::unique_prefix()));
    broker.subscribe("c", [&](const std::string& p) {
      if (p == "last") got.add(p);
    });
    ASSERT_TRUE(publishes_without_waiting(broker, "c", 1000, "last"));
    ASSERT_TRUE(got.wait_for("last"));
    EXPECT_FALSE(broker.connected());  // its SUBSCRIBE is never confirmed
    auto stopping = std::async(std::launch::async, [&] { broker.stop(); });
    // stop() waits for the connection thread, which may be in one I/O wait.
    EXPECT_EQ(stopping.wait_for(kEventDeadline), std::future_status::ready);
  }
  ::close(listener);
}

TEST(RedisBroker, StopInterruptsTheWaitBeforeReconnecting) {
  test::PrivateRedis redis;  // only for a port that refuses connections
  PARLEY_REQUIRE_REDIS(redis.error());
  redis.kill();
  auto options = test::test_broker_options(redis.url(), test::unique_prefix());
  options.backoff_floor = std::chrono::hours(1);
  options.backoff_ceiling = std::chrono::hours(1);
  Received got;
  RedisBroker broker(options);
  broker.subscribe("c", [&](const std::string& p) { got.add(p); });
  broker.publish("c", "local");
  ASSERT_TRUE(got.wait_for("local"));
  // The first attempt fails at once (refused); then the broker waits.
  ASSERT_TRUE(wait_until([&] { return broker.stats().connect_failures.load() > 0; }));
  auto stopping = std::async(std::launch::async, [&] { broker.stop(); });
  EXPECT_EQ(stopping.wait_for(kEventDeadline), std::future_status::ready);
}

}  // namespace
}  // namespace parley::cluster
