// RedisPresence and RedisRateLimit: what several nodes sharing one Redis
// must agree on. Each "node" here is the same pair of objects parleyd makes
// with REDIS_URL (a command link, the presence registry, the send limit),
// against a real redis-server: the shared one, or a private one for the
// tests that kill it.
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/redis/redis_commands.hpp"
#include "cluster/redis/redis_presence.hpp"
#include "cluster/redis/redis_rate_limit.hpp"
#include "test_redis.hpp"

namespace parley::cluster {
namespace {

using test::kEventDeadline;
using test::wait_until;
using Admission = PresenceRegistry::Admission;

constexpr std::chrono::milliseconds kShortTtl{300};

// What a node's change handler was told, in order.
struct ChangeLog {
  std::mutex mutex;
  std::vector<std::string> came_online;
  std::vector<std::string> went_offline;

  std::size_t offline_count(const std::string& user) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(went_offline.begin(), went_offline.end(), user));
  }
  std::size_t online_count(const std::string& user) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(came_online.begin(), came_online.end(), user));
  }
};

struct Node {
  Node(const std::string& url, const std::string& prefix,
       std::chrono::milliseconds ttl = kEventDeadline * 10)
      : link(options(url, ttl)),
        presence(link, prefix, ttl),
        sends(link, prefix, "messages", 1, 3, true) {
    presence.on_changes([this](PresenceRegistry::Changes c) {
      std::lock_guard lock(changes.mutex);
      for (auto& u : c.came_online) changes.came_online.push_back(std::move(u));
      for (auto& u : c.went_offline) changes.went_offline.push_back(std::move(u));
    });
    link.start();
  }

  static RedisCommandsOptions options(const std::string& url, std::chrono::milliseconds ttl) {
    auto parsed = parse_redis_url(url);
    RedisCommandsOptions o{.url = *parsed};
    o.backoff_floor = std::chrono::milliseconds(10);
    o.backoff_ceiling = std::chrono::milliseconds(200);
    o.io_timeout = std::chrono::milliseconds(2000);
    o.tick = ttl / 3;
    return o;
  }

  bool up() {
    return wait_until([&] { return link.connected(); });
  }

  Admission connect(const std::string& user, std::size_t limit) {
    std::promise<Admission> p;
    presence.connect(user, limit, [&](Admission a) { p.set_value(a); });
    return p.get_future().get();
  }
  bool disconnect(const std::string& user) {
    std::promise<bool> p;
    presence.disconnect(user, [&](bool last) { p.set_value(last); });
    return p.get_future().get();
  }
  std::vector<bool> online(std::vector<std::string> users) {
    std::promise<std::vector<bool>> p;
    presence.online(std::move(users), [&](std::vector<bool> f) { p.set_value(std::move(f)); });
    return p.get_future().get();
  }
  std::vector<std::string> online_users() {
    std::promise<std::vector<std::string>> p;
    presence.online_users([&](std::vector<std::string> u) { p.set_value(std::move(u)); });
    auto users = p.get_future().get();
    std::sort(users.begin(), users.end());
    return users;
  }
  RateLimit::Decision take(const std::string& key) {
    std::promise<RateLimit::Decision> p;
    sends.take(key, [&](RateLimit::Decision d) { p.set_value(d); });
    return p.get_future().get();
  }

  ChangeLog changes;  // outlives the link, whose thread writes it
  RedisCommands link;
  RedisPresence presence;
  RedisRateLimit sends;
};

class RedisPresenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = test::shared_redis_url();
    PARLEY_REQUIRE_REDIS(url ? std::string() : url.error());
    url_ = *url;
    prefix_ = test::unique_prefix();
  }
  std::string url_;
  std::string prefix_;
};

TEST_F(RedisPresenceTest, NodesShareEachUsersSocketsAndTheirLimit) {
  Node a(url_, prefix_), b(url_, prefix_);
  ASSERT_TRUE(a.up());
  ASSERT_TRUE(b.up());
  const Admission first = a.connect("u1", 2);
  EXPECT_TRUE(first.admitted);
  EXPECT_TRUE(first.came_online);
  const Admission second = b.connect("u1", 2);
  EXPECT_TRUE(second.admitted);
  EXPECT_FALSE(second.came_online) << "online already through node a";
  EXPECT_FALSE(b.connect("u1", 2).admitted) << "the limit holds across nodes";
  EXPECT_FALSE(a.connect("u1", 2).admitted);
  EXPECT_EQ(b.online({"u1", "u2"}), (std::vector<bool>{true, false}));
  EXPECT_EQ(a.online_users(), std::vector<std::string>{"u1"});

  EXPECT_FALSE(a.disconnect("u1")) << "still on node b";
  EXPECT_TRUE(b.connect("u1", 2).admitted) << "a's slot is free again";
  EXPECT_FALSE(b.disconnect("u1"));
  EXPECT_TRUE(b.disconnect("u1")) << "the last socket in the deployment";
  EXPECT_EQ(a.online({"u1"}), std::vector<bool>{false});
  EXPECT_TRUE(a.online_users().empty());
  EXPECT_FALSE(a.disconnect("u1")) << "nothing left to uncount";
}

TEST_F(RedisPresenceTest, RacingConnectsOnTwoNodesAdmitExactlyTheLimit) {
  Node a(url_, prefix_), b(url_, prefix_);
  ASSERT_TRUE(a.up());
  ASSERT_TRUE(b.up());
  constexpr int kTries = 40;
  constexpr std::size_t kLimit = 7;
  std::mutex mutex;
  int admitted = 0;
  int came_online = 0;
  int answered = 0;
  for (int i = 0; i < kTries; ++i) {
    (i % 2 == 0 ? a : b).presence.connect("racer", kLimit, [&](Admission r) {
      std::lock_guard lock(mutex);
      admitted += r.admitted ? 1 : 0;
      came_online += r.came_online ? 1 : 0;
      ++answered;
    });
  }
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return answered == kTries;
  }));
  EXPECT_EQ(admitted, static_cast<int>(kLimit));
  EXPECT_EQ(came_online, 1);
}

TEST_F(RedisPresenceTest, ADeadNodesUsersGoOfflineAfterItsTtlReportedByOneNode) {
  Node b(url_, prefix_, kShortTtl), c(url_, prefix_, kShortTtl);
  ASSERT_TRUE(b.up());
  ASSERT_TRUE(c.up());
  {
    Node a(url_, prefix_, kShortTtl);
    ASSERT_TRUE(a.up());
    ASSERT_TRUE(a.connect("dies-with-a", 5).came_online);
    ASSERT_TRUE(a.connect("also-on-b", 5).came_online);
    ASSERT_TRUE(b.connect("also-on-b", 5).admitted);
    EXPECT_EQ(c.online({"dies-with-a"}), std::vector<bool>{true});
    // Gone without a disconnect, as a killed node goes.
    a.link.stop();
  }
  ASSERT_TRUE(wait_until([&] {
    return b.changes.offline_count("dies-with-a") + c.changes.offline_count("dies-with-a") > 0;
  }));
  EXPECT_EQ(c.online({"dies-with-a", "also-on-b"}), (std::vector<bool>{false, true}));
  // A heartbeat of each node later (they come every third of the TTL), the
  // report was still made once in all, and never for the user node b holds.
  std::this_thread::sleep_for(kShortTtl * 2);
  EXPECT_EQ(b.changes.offline_count("dies-with-a") + c.changes.offline_count("dies-with-a"), 1U);
  EXPECT_EQ(b.changes.offline_count("also-on-b") + c.changes.offline_count("also-on-b"), 0U);
}

TEST_F(RedisPresenceTest, TheSendLimitHoldsAcrossNodes) {
  Node a(url_, prefix_), b(url_, prefix_);
  ASSERT_TRUE(a.up());
  ASSERT_TRUE(b.up());
  // Burst 3 at one a second: three sends on two nodes, then refused on both.
  EXPECT_TRUE(a.take("sender").allowed);
  EXPECT_TRUE(b.take("sender").allowed);
  EXPECT_TRUE(a.take("sender").allowed);
  const auto refused = b.take("sender");
  EXPECT_FALSE(refused.allowed);
  EXPECT_GE(refused.retry_after_seconds, 1);
  EXPECT_FALSE(a.take("sender").allowed);
  EXPECT_TRUE(a.take("someone else").allowed) << "a bucket per key";
}

TEST(RedisPresenceRestart, ANodeCountsOnItsOwnWhileRedisIsDownThenJoinsAgain) {
  test::PrivateRedis redis;
  PARLEY_REQUIRE_REDIS(redis.error());
  const std::string prefix = test::unique_prefix();
  Node a(redis.url(), prefix);
  ASSERT_TRUE(a.up());
  ASSERT_TRUE(a.connect("before", 1).came_online);

  redis.kill();
  ASSERT_TRUE(wait_until([&] { return !a.link.connected(); }));
  // Answered from the node's own sockets, limit included.
  const Admission during = a.connect("during", 1);
  EXPECT_TRUE(during.admitted);
  EXPECT_TRUE(during.came_online);
  EXPECT_FALSE(a.connect("during", 1).admitted);
  EXPECT_EQ(a.online({"before", "during", "nobody"}), (std::vector<bool>{true, true, false}));
  EXPECT_TRUE(a.take("sender").allowed) << "the node's own buckets decide meanwhile";

  // Redis came back empty: the node's sockets are counted again, and the
  // users who thereby came online in the deployment are reported.
  ASSERT_EQ(redis.start(), "");
  ASSERT_TRUE(a.up());
  ASSERT_TRUE(wait_until([&] { return a.changes.online_count("during") == 1; }));
  EXPECT_EQ(a.changes.online_count("before"), 1U);
  Node b(redis.url(), prefix);
  ASSERT_TRUE(b.up());
  EXPECT_EQ(b.online({"before", "during"}), (std::vector<bool>{true, true}));
  EXPECT_FALSE(b.connect("during", 1).admitted) << "a's socket counts against the limit again";
  EXPECT_TRUE(a.disconnect("during"));
  EXPECT_EQ(b.online({"during"}), std::vector<bool>{false});
}

}  // namespace
}  // namespace parley::cluster
