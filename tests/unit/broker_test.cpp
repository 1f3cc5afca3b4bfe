// The Broker contract (cluster/broker.hpp), as one suite run against every
// implementation through a factory (LocalBroker now; a Redis broker joins
// the list when it exists).
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/local/local_broker.hpp"

namespace parley::cluster {
namespace {

using Factory = std::unique_ptr<Broker> (*)();

class BrokerContract : public ::testing::TestWithParam<Factory> {};

TEST_P(BrokerContract, DeliversToEverySubscriberOfTheChannel) {
  auto broker = GetParam()();
  std::latch both(2);
  std::string a, b;
  broker->subscribe("c", [&](const std::string& p) {
    a = p;
    both.count_down();
  });
  broker->subscribe("c", [&](const std::string& p) {
    b = p;
    both.count_down();
  });
  broker->publish("c", "hello");
  both.wait();
  EXPECT_EQ(a, "hello");
  EXPECT_EQ(b, "hello");
}

TEST_P(BrokerContract, KeepsOnePublishersOrderOnAChannel) {
  auto broker = GetParam()();
  constexpr int kCount = 1000;
  std::vector<int> seen;
  std::promise<void> done;
  broker->subscribe("ordered", [&](const std::string& p) {
    seen.push_back(std::stoi(p));  // handlers run on the broker's one thread
    if (seen.size() == kCount) done.set_value();
  });
  for (int i = 0; i < kCount; ++i) broker->publish("ordered", std::to_string(i));
  done.get_future().wait();
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST_P(BrokerContract, ChannelsAreSeparate) {
  auto broker = GetParam()();
  std::mutex m;
  std::vector<std::string> got;
  std::promise<void> last;
  broker->subscribe("x", [&](const std::string& p) {
    std::lock_guard lock(m);
    got.push_back("x:" + p);
  });
  broker->subscribe("y", [&](const std::string& p) {
    std::lock_guard lock(m);
    got.push_back("y:" + p);
    if (p == "end") last.set_value();
  });
  broker->publish("z", "nobody listens");
  broker->publish("x", "1");
  broker->publish("y", "end");
  last.get_future().wait();
  std::lock_guard lock(m);
  EXPECT_EQ(got, (std::vector<std::string>{"x:1", "y:end"}));
}

TEST_P(BrokerContract, StopIsIdempotentAndEndsDelivery) {
  auto broker = GetParam()();
  std::mutex m;
  std::vector<std::string> got;
  std::promise<void> before_delivered;
  broker->subscribe("c", [&](const std::string& p) {
    std::lock_guard lock(m);
    got.push_back(p);
    if (p == "before") before_delivered.set_value();
  });
  broker->publish("c", "before");
  before_delivered.get_future().wait();  // delivery works until stop()
  broker->stop();
  broker->stop();                 // a second stop returns, and changes nothing
  broker->publish("c", "after");  // dropped: never delivered, never blocks
  // Destroying the broker joins whatever it still runs: nothing delivered
  // past this point can exist, so the log below is final.
  broker.reset();
  std::lock_guard lock(m);
  EXPECT_EQ(got, (std::vector<std::string>{"before"}));
}

std::unique_ptr<Broker> make_local() {
  return std::make_unique<LocalBroker>();
}

INSTANTIATE_TEST_SUITE_P(Local, BrokerContract, ::testing::Values(&make_local));

}  // namespace
}  // namespace parley::cluster
