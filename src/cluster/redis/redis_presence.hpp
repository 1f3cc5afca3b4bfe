// RedisPresence: the PresenceRegistry contract (cluster/presence_registry.hpp)
// across the nodes that share one Redis. Selected by REDIS_URL.
//
// DESIGN
// - In Redis, under the prefix P:
//     P presence:nodes        sorted set: node id -> the time (ms, Redis's
//                             clock) after which its sockets stop counting
//     P presence:node:<id>    hash: user -> that node's sockets of the user
//     P presence:users        hash: user -> sockets in the deployment
//   Each change is one Lua script, so it is atomic across nodes: a connect
//   checks the user's total against the limit and counts the socket in one
//   step; a disconnect uncounts it and reports the new total.
// - Node ids are random per process: a restarted node is a new node, and
//   what its previous life counted expires with that life.
// - Heartbeat: every third of CLUSTER_NODE_TTL_MS each node pushes its own
//   deadline and reaps up to 16 nodes whose deadline passed: their sockets
//   stop counting, and the users who thereby went offline are reported to
//   this node's change handler (only the node whose script reaped them sees
//   them, so each is announced once).
// - This node's own sockets are also counted here (`local_`), which is what
//   it answers from while Redis is out of reach. When a link comes up, the
//   first command on it replaces this node's hash with `local_` and reports
//   who came online or went offline in the deployment as a result. The
//   lock order (mutex_, then the command queue's) makes that snapshot and
//   the commands after it agree: a change made after the snapshot is sent
//   after it. A heartbeat that finds this node reaped (it was silent longer
//   than the TTL) drops the link, so the next one resynchronises.
// - Reads (online, online_users) go to Redis, one command each.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cluster/presence_registry.hpp"
#include "cluster/redis/redis_commands.hpp"

namespace parley::cluster {

// How long a node's sockets keep counting after its last heartbeat.
inline constexpr std::chrono::milliseconds kDefaultClusterNodeTtl{15000};

class RedisPresence final : public PresenceRegistry {
 public:
  // Adds its scripts and hooks to `commands`, which must not be started yet.
  RedisPresence(RedisCommands& commands, const std::string& prefix,
                std::chrono::milliseconds node_ttl);

  void connect(const std::string& user, std::size_t limit,
               std::function<void(Admission)> done) override;
  void disconnect(const std::string& user, std::function<void(bool)> done) override;
  void online(std::vector<std::string> users, std::function<void(std::vector<bool>)> done) override;
  void online_users(std::function<void(std::vector<std::string>)> done) override;
  void on_changes(std::function<void(Changes)> handler) override { changes_ = std::move(handler); }

  const std::string& node_id() const { return node_id_; }

 private:
  Admission admit_locally(const std::string& user, std::size_t limit);  // mutex_ held
  std::size_t local_count(const std::string& user) const;               // mutex_ held
  void resynchronise();  // on a new link, from its up hook
  void heartbeat();      // from the tick hook

  RedisCommands& commands_;
  const std::string node_id_;
  const std::chrono::milliseconds ttl_;
  const std::string nodes_key_;
  const std::string users_key_;
  const std::string node_key_prefix_;
  const std::string node_key_;
  RedisCommands::ScriptId connect_script_;
  RedisCommands::ScriptId disconnect_script_;
  RedisCommands::ScriptId heartbeat_script_;
  RedisCommands::ScriptId resync_script_;
  std::function<void(Changes)> changes_;

  mutable std::mutex mutex_;  // guards local_; taken before the command queue's
  std::unordered_map<std::string, std::size_t> local_;
};

}  // namespace parley::cluster
