// parley::cluster presence registry: how many sockets each user holds, on
// this node and across the nodes of a deployment. It decides who is online
// (a user is online while any node holds a socket of theirs) and enforces
// MAX_SOCKETS_PER_USER for the whole deployment.
//
// CONTRACT
// - connect() counts one more socket of a user on this node unless the user
//   already holds `limit` sockets in the deployment; it says whether the
//   user thereby came online. disconnect() counts one fewer and says
//   whether that was the user's last socket anywhere. The decision is
//   atomic across nodes: two nodes never both admit the limit's last slot,
//   and exactly one of two racing connects sees the user come online.
// - Changes no connect or disconnect on this node caused (a node that died
//   and whose sockets stopped counting after its TTL, this node's sockets
//   counted again after the shared state was out of reach) reach the
//   handler given to on_changes(), each once in the deployment.
// - While the shared state is out of reach a node answers from its own
//   sockets, so it keeps serving them; its counts join the deployment's
//   again once it is back.
// - Threads: any method may be called from any thread and never blocks on
//   the network. Callbacks run on the caller's thread (answered at once) or
//   on the registry's own thread, never an I/O thread's, and must not block.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace parley::cluster {

class PresenceRegistry {
 public:
  struct Admission {
    bool admitted = false;
    bool came_online = false;  // the user's first socket in the deployment
  };
  struct Changes {
    std::vector<std::string> came_online;
    std::vector<std::string> went_offline;
  };

  virtual ~PresenceRegistry() = default;

  virtual void connect(const std::string& user, std::size_t limit,
                       std::function<void(Admission)> done) = 0;
  // `done` gets true when this was the user's last socket in the deployment.
  virtual void disconnect(const std::string& user, std::function<void(bool)> done) = 0;
  // Whether each of `users` is online, in order.
  virtual void online(std::vector<std::string> users,
                      std::function<void(std::vector<bool>)> done) = 0;
  virtual void online_users(std::function<void(std::vector<std::string>)> done) = 0;
  // Start-up only, before traffic.
  virtual void on_changes(std::function<void(Changes)> handler) = 0;
};

}  // namespace parley::cluster
