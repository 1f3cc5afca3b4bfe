#include "cluster/local/local_presence.hpp"

namespace parley::cluster {

void LocalPresence::connect(const std::string& user, std::size_t limit,
                            std::function<void(Admission)> done) {
  const std::size_t now = sockets_.try_increment(user, limit);
  done(Admission{now > 0, now == 1});
}

void LocalPresence::disconnect(const std::string& user, std::function<void(bool)> done) {
  done(sockets_.decrement(user) == 0);
}

void LocalPresence::online(std::vector<std::string> users,
                           std::function<void(std::vector<bool>)> done) {
  std::vector<bool> flags;
  flags.reserve(users.size());
  for (const auto& u : users) flags.push_back(sockets_.count(u) > 0);
  done(std::move(flags));
}

void LocalPresence::online_users(std::function<void(std::vector<std::string>)> done) {
  done(sockets_.keys());
}

}  // namespace parley::cluster
