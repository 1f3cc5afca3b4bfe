// parley::chat directory: who the caller can talk to. Lists users for
// GET /api/users with the contract's paging rules; `online` comes from the
// presence registry (the whole deployment's, with REDIS_URL).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "cluster/presence_registry.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace parley::chat {

struct ListedUser {
  store::User user;
  bool online = false;
};

struct UserListQuery {
  std::string caller_id;
  std::string q;  // name or email prefix, case-insensitive
  std::size_t limit = 50;
  std::size_t skip = 0;
};

class Directory {
 public:
  static constexpr std::size_t kMaxLimit = 200;
  Directory(store::Store& store, cluster::PresenceRegistry& presence)
      : store_(store), presence_(presence) {}

  // How many contacts a user's presence reaches with PRESENCE_SCOPE=contacts.
  static constexpr std::size_t kMaxContacts = 10000;

  // `done` runs on a store thread or the presence registry's.
  void list(UserListQuery query, std::function<void(core::Result<std::vector<ListedUser>>)> done);
  // The users who share a conversation with `user_id` (at most kMaxContacts).
  void contacts(std::string user_id,
                std::function<void(core::Result<std::vector<std::string>>)> done) {
    store_.contacts(std::move(user_id), kMaxContacts, std::move(done));
  }

 private:
  store::Store& store_;
  cluster::PresenceRegistry& presence_;
};

}  // namespace parley::chat
