// The Broker contract (cluster/broker.hpp), as one suite run against every
// implementation through a factory: LocalBroker; RedisBroker as one node;
// and RedisBroker as two nodes of one deployment, publishing on one and
// subscribing on the other, so that every promise also holds across Redis.
#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cluster/local/local_broker.hpp"
#include "cluster/redis/redis_broker.hpp"
#include "received.hpp"
#include "test_redis.hpp"

namespace parley::cluster {
namespace {

using test::kEventDeadline;
using test::Received;

// The brokers one test runs against: the one its subscribers use and the
// one it publishes on (the same broker for a single node).
class Nodes {
 public:
  virtual ~Nodes() = default;
  virtual Broker& subscriber() = 0;
  virtual Broker& publisher() = 0;
  // After subscribing: true once the subscriptions are in effect for every
  // publisher (Redis: confirmed by Redis on every node).
  virtual bool ready() = 0;
};

class OneNode final : public Nodes {
 public:
  explicit OneNode(std::unique_ptr<Broker> broker, RedisBroker* redis = nullptr)
      : broker_(std::move(broker)), redis_(redis) {}
  Broker& subscriber() override { return *broker_; }
  Broker& publisher() override { return *broker_; }
  bool ready() override {
    return redis_ == nullptr || redis_->wait_connected(true, kEventDeadline);
  }

 private:
  std::unique_ptr<Broker> broker_;
  RedisBroker* redis_;
};

class TwoRedisNodes final : public Nodes {
 public:
  explicit TwoRedisNodes(const std::string& url) {
    const std::string prefix = test::unique_prefix();
    publisher_ = std::make_unique<RedisBroker>(test::test_broker_options(url, prefix));
    subscriber_ = std::make_unique<RedisBroker>(test::test_broker_options(url, prefix));
  }
  Broker& subscriber() override { return *subscriber_; }
  Broker& publisher() override { return *publisher_; }
  bool ready() override {
    return subscriber_->wait_connected(true, kEventDeadline) &&
           publisher_->wait_connected(true, kEventDeadline);
  }

 private:
  std::unique_ptr<RedisBroker> publisher_;
  std::unique_ptr<RedisBroker> subscriber_;
};

struct Implementation {
  const char* name;
  bool uses_redis;
  std::unique_ptr<Nodes> (*make)(const std::string& redis_url);
};

// Test names and failure messages show the implementation's name.
void PrintTo(const Implementation& implementation, std::ostream* out) {
  *out << implementation.name;
}

std::unique_ptr<Nodes> make_local(const std::string&) {
  return std::make_unique<OneNode>(std::make_unique<LocalBroker>());
}

std::unique_ptr<Nodes> make_redis_one_node(const std::string& url) {
  auto broker =
      std::make_unique<RedisBroker>(test::test_broker_options(url, test::unique_prefix()));
  RedisBroker* redis = broker.get();
  return std::make_unique<OneNode>(std::move(broker), redis);
}

std::unique_ptr<Nodes> make_redis_two_nodes(const std::string& url) {
  return std::make_unique<TwoRedisNodes>(url);
}

class BrokerContract : public ::testing::TestWithParam<Implementation> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam().uses_redis) {
      auto shared = test::shared_redis_url();
      PARLEY_REQUIRE_REDIS(shared ? std::string() : shared.error());
      url = *shared;
    }
    nodes_ = GetParam().make(url);
  }

  Broker& subscriber() { return nodes_->subscriber(); }
  Broker& publisher() { return nodes_->publisher(); }
  // Owned here, not by the test body, so that the brokers (destroyed first:
  // declared last) never call a handler whose log is gone, even when a
  // test stops half-way.
  Received& received(const std::string& name) { return received_[name]; }

  std::map<std::string, Received> received_;
  std::unique_ptr<Nodes> nodes_;
};

// Holds a handler until the test opens it, or ends: a handler keeps its own
// copy of opened(), which a destroyed gate releases too (broken promise).
class Gate {
 public:
  void open() { promise_.set_value(); }
  std::shared_future<void> opened() const { return opened_; }

 private:
  std::promise<void> promise_;
  std::shared_future<void> opened_ = promise_.get_future().share();
};

TEST_P(BrokerContract, DeliversToEverySubscriberOnEveryNodeThisOneIncluded) {
  Received& a = received("a");
  Received& b = received("b");
  Received& publishers_own = received("publisher's own");
  subscriber().subscribe("c", [&](const std::string& p) { a.add(p); });
  subscriber().subscribe("c", [&](const std::string& p) { b.add(p); });
  publisher().subscribe("c", [&](const std::string& p) { publishers_own.add(p); });
  ASSERT_TRUE(nodes_->ready());
  publisher().publish("c", "hello");
  ASSERT_TRUE(a.wait_for("hello"));
  ASSERT_TRUE(b.wait_for("hello"));
  ASSERT_TRUE(publishers_own.wait_for("hello"));
}

TEST_P(BrokerContract, KeepsOnePublishersOrderOnAChannel) {
  constexpr int kCount = 1000;
  Received& got = received("ordered");
  subscriber().subscribe("ordered", [&](const std::string& p) { got.add(p); });
  ASSERT_TRUE(nodes_->ready());
  for (int i = 0; i < kCount; ++i) publisher().publish("ordered", std::to_string(i));
  ASSERT_TRUE(got.wait_for_count(kCount)) << got.items().size() << " of " << kCount;
  const auto items = got.items();
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(items[static_cast<std::size_t>(i)], std::to_string(i));
}

// The contract orders one publisher's payloads per channel, and nothing
// across channels or publishers: each (publisher, channel) sequence is
// checked on its own, never how the channels interleave.
TEST_P(BrokerContract, KeepsEachPublishersOrderPerChannelNotAcross) {
  constexpr int kPublishers = 3;
  constexpr int kPerChannel = 300;
  const std::vector<std::string> channels{"left", "right"};
  for (const auto& c : channels) {
    Received& into = received(c);
    subscriber().subscribe(c, [&into](const std::string& p) { into.add(p); });
  }
  ASSERT_TRUE(nodes_->ready());
  std::vector<std::thread> publishers;
  publishers.reserve(kPublishers);
  for (int t = 0; t < kPublishers; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; i < kPerChannel; ++i) {
        for (const auto& c : channels) publisher().publish(c, fmt::format("{}:{}", t, i));
      }
    });
  }
  for (auto& t : publishers) t.join();
  for (const auto& c : channels) {
    ASSERT_TRUE(received(c).wait_for_count(kPublishers * kPerChannel)) << c;
    std::vector<int> next(kPublishers, 0);
    for (const auto& item : received(c).items()) {
      const auto colon = item.find(':');
      const int t = std::stoi(item.substr(0, colon));
      const int i = std::stoi(item.substr(colon + 1));
      ASSERT_EQ(i, next[static_cast<std::size_t>(t)]) << "channel " << c << ", publisher " << t;
      ++next[static_cast<std::size_t>(t)];
    }
  }
}

TEST_P(BrokerContract, ChannelsAreSeparate) {
  Received& got = received("x and y");
  subscriber().subscribe("x", [&](const std::string& p) { got.add("x:" + p); });
  subscriber().subscribe("y", [&](const std::string& p) { got.add("y:" + p); });
  ASSERT_TRUE(nodes_->ready());
  publisher().publish("z", "nobody listens");
  publisher().publish("x", "1");
  publisher().publish("y", "1");
  ASSERT_TRUE(got.wait_for_count(2));
  // Then one more on each: by each channel's order, everything published
  // on x or y before it has arrived once these have.
  publisher().publish("x", "2");
  publisher().publish("y", "2");
  ASSERT_TRUE(got.wait_for("x:2"));
  ASSERT_TRUE(got.wait_for("y:2"));
  auto items = got.items();
  std::sort(items.begin(), items.end());  // no order across channels
  EXPECT_EQ(items, (std::vector<std::string>{"x:1", "x:2", "y:1", "y:2"}));
}

TEST_P(BrokerContract, PublishDoesNotWaitForASlowSubscriber) {
  constexpr int kCount = 10'000;
  Gate gate;
  Received& entered = received("entered");
  subscriber().subscribe("slow", [&entered, opened = gate.opened()](const std::string& p) {
    if (p != "stuck") return;
    entered.add(p);
    opened.wait();
  });
  ASSERT_TRUE(nodes_->ready());
  publisher().publish("slow", "stuck");
  ASSERT_TRUE(entered.wait_for("stuck"));
  // The subscriber's thread is now stuck in its handler.
  auto publishing = std::async(std::launch::async, [&] {
    for (int i = 0; i < kCount; ++i) publisher().publish("slow", std::to_string(i));
  });
  EXPECT_EQ(publishing.wait_for(kEventDeadline), std::future_status::ready)
      << "publish() waited for a handler";
  gate.open();
}

TEST_P(BrokerContract, StopIsIdempotentAndEndsDelivery) {
  Received& got = received("c");
  subscriber().subscribe("c", [&](const std::string& p) { got.add(p); });
  ASSERT_TRUE(nodes_->ready());
  publisher().publish("c", "before");
  ASSERT_TRUE(got.wait_for("before"));  // delivery works until stop()
  subscriber().stop();
  subscriber().stop();                // a second stop returns, and changes nothing
  publisher().publish("c", "after");  // never delivered, never blocks
  // Destroying the brokers joins whatever they still run: nothing delivered
  // past this point can exist, so the log below is final.
  nodes_.reset();
  EXPECT_EQ(got.items(), (std::vector<std::string>{"before"}));
}

INSTANTIATE_TEST_SUITE_P(
    Brokers, BrokerContract,
    ::testing::Values(Implementation{"Local", false, &make_local},
                      Implementation{"RedisOneNode", true, &make_redis_one_node},
                      Implementation{"RedisTwoNodes", true, &make_redis_two_nodes}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace parley::cluster
