// parley::chat presence: who is online, counted per user across all their
// devices (sockets). A user is online from their first socket's connect to
// their last socket's disconnect; two tabs closing one stays online.
//
// Thread-safe: a connect or disconnect takes one shard lock of a sharded
// counter and never iterates other users. The fan-out of the resulting
// user:online / user:offline events is the real-time layer's job (see
// api/chat_sockets.hpp), off the I/O thread that caused the change. Local to
// this node: a cluster broker will share it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/keyed_counter.hpp"

namespace parley::chat {

class Presence {
 public:
  // True when this is the user's first connection (they came online).
  bool connect(const std::string& user_id) { return sockets_.increment(user_id) == 1; }
  // True when this was the user's last connection (they went offline).
  bool disconnect(const std::string& user_id) { return sockets_.decrement(user_id) == 0; }
  bool online(const std::string& user_id) const { return sockets_.count(user_id) > 0; }
  std::size_t connections(const std::string& user_id) const { return sockets_.count(user_id); }
  std::vector<std::string> online_users() const { return sockets_.keys(); }

 private:
  core::KeyedCounter sockets_;
};

}  // namespace parley::chat
