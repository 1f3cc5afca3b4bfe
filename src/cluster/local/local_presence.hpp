// LocalPresence: the PresenceRegistry contract (cluster/presence_registry.hpp)
// for a single node, where this node's sockets are all the sockets there
// are. Every call is answered at once, on the caller's thread; a connect or
// disconnect takes one shard lock of a sharded counter and never iterates
// other users.
#pragma once

#include "cluster/presence_registry.hpp"
#include "core/keyed_counter.hpp"

namespace parley::cluster {

class LocalPresence final : public PresenceRegistry {
 public:
  void connect(const std::string& user, std::size_t limit,
               std::function<void(Admission)> done) override;
  void disconnect(const std::string& user, std::function<void(bool)> done) override;
  void online(std::vector<std::string> users, std::function<void(std::vector<bool>)> done) override;
  void online_users(std::function<void(std::vector<std::string>)> done) override;
  // Nothing changes behind a single node's back.
  void on_changes(std::function<void(Changes)> /*handler*/) override {}

 private:
  core::KeyedCounter sockets_;
};

}  // namespace parley::cluster
