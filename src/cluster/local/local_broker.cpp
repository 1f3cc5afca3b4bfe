#include "cluster/local/local_broker.hpp"

namespace parley::cluster {

void LocalBroker::publish(std::string channel, std::string payload) {
  thread_.post([this, channel = std::move(channel), payload = std::move(payload)] {
    auto it = handlers_.find(channel);
    if (it == handlers_.end()) return;
    for (const auto& h : it->second) h(payload);
  });
}

void LocalBroker::subscribe(std::string channel, Handler handler) {
  handlers_[std::move(channel)].push_back(std::move(handler));
}

}  // namespace parley::cluster
