#include "chat/presence.hpp"

#include <functional>

namespace parley::chat {

const Presence::Shard& Presence::shard(const std::string& user_id) const {
  return shards_[std::hash<std::string>{}(user_id) % shards_.size()];
}

Presence::Shard& Presence::shard(const std::string& user_id) {
  return shards_[std::hash<std::string>{}(user_id) % shards_.size()];
}

bool Presence::connect(const std::string& user_id) {
  Shard& s = shard(user_id);
  std::lock_guard lock(s.mutex);
  return ++s.counts[user_id] == 1;
}

bool Presence::disconnect(const std::string& user_id) {
  Shard& s = shard(user_id);
  std::lock_guard lock(s.mutex);
  auto it = s.counts.find(user_id);
  if (it == s.counts.end()) return false;
  if (--it->second > 0) return false;
  s.counts.erase(it);
  return true;
}

bool Presence::online(const std::string& user_id) const {
  return connections(user_id) > 0;
}

std::size_t Presence::connections(const std::string& user_id) const {
  const Shard& s = shard(user_id);
  std::lock_guard lock(s.mutex);
  auto it = s.counts.find(user_id);
  return it == s.counts.end() ? 0 : static_cast<std::size_t>(it->second);
}

std::vector<std::string> Presence::online_users() const {
  std::vector<std::string> out;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [user, n] : s.counts) out.push_back(user);
  }
  return out;
}

}  // namespace parley::chat
