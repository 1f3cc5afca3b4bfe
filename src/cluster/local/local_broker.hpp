// LocalBroker: the Broker contract (cluster/broker.hpp) within one process,
// for a single node. One delivery thread: publish() queues, the thread calls
// the channel's handlers in publish order.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/broker.hpp"
#include "core/thread_pool.hpp"

namespace parley::cluster {

class LocalBroker final : public Broker {
 public:
  LocalBroker() = default;
  ~LocalBroker() override { stop(); }

  void publish(std::string channel, std::string payload) override;
  void subscribe(std::string channel, Handler handler) override;
  void stop() override { thread_.stop(); }

 private:
  // Written at start-up only, then read by the delivery thread.
  std::unordered_map<std::string, std::vector<Handler>> handlers_;
  core::ThreadPool thread_{"broker", 1};  // one thread: publish order kept
};

}  // namespace parley::cluster
