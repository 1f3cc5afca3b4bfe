// parley::chat presence: who is online, counted per user across all their
// devices (sockets). A user is online from their first socket's connect to
// their last socket's disconnect; two tabs closing one stays online.
//
// Thread-safe: the user space is sharded, one mutex per shard; a connect or
// disconnect touches one shard, once, and never iterates other users. The
// fan-out of the resulting user:online / user:offline events is the
// real-time layer's job (see api/chat_sockets.hpp), off the I/O thread that
// caused the change. Local to this node: a cluster broker will share it.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::chat {

class Presence {
 public:
  // True when this is the user's first connection (they came online).
  bool connect(const std::string& user_id);
  // True when this was the user's last connection (they went offline).
  bool disconnect(const std::string& user_id);
  bool online(const std::string& user_id) const;
  std::size_t connections(const std::string& user_id) const;
  std::vector<std::string> online_users() const;

 private:
  struct Shard {
    mutable std::mutex mutex;  // guards counts
    std::unordered_map<std::string, int> counts;
  };
  const Shard& shard(const std::string& user_id) const;
  Shard& shard(const std::string& user_id);
  std::array<Shard, 16> shards_;
};

}  // namespace parley::chat
