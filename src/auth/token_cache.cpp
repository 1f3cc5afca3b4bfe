#include "auth/token_cache.hpp"

#include <functional>

#include "core/clock.hpp"

namespace parley::auth {

TokenCache::TokenCache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_per_shard_(std::max<std::size_t>(1, max_entries / 16)) {}

TokenCache::Shard& TokenCache::shard(const std::string& jti) {
  return shards_[std::hash<std::string>{}(jti) % shards_.size()];
}

std::optional<store::User> TokenCache::find(const std::string& jti) {
  if (ttl_.count() == 0) return std::nullopt;
  Shard& s = shard(jti);
  std::lock_guard lock(s.mutex);
  auto it = s.entries.find(jti);
  if (it == s.entries.end()) return std::nullopt;
  if (Clock::now() >= it->second.until) {
    s.entries.erase(it);
    return std::nullopt;
  }
  return it->second.user;
}

void TokenCache::insert(const std::string& jti, const store::User& user) {
  if (ttl_.count() == 0) return;
  Shard& s = shard(jti);
  std::lock_guard lock(s.mutex);
  if (s.revoked.count(jti)) return;
  if (s.entries.size() >= max_per_shard_) s.entries.clear();
  s.entries.insert_or_assign(jti, Entry{user, Clock::now() + ttl_});
}

void TokenCache::revoke(const std::string& jti, std::int64_t expires_at_s) {
  Shard& s = shard(jti);
  std::lock_guard lock(s.mutex);
  s.entries.erase(jti);
  if (s.revoked.size() >= max_per_shard_) {
    const std::int64_t now_s = core::now_ms() / 1000;
    std::erase_if(s.revoked, [now_s](const auto& kv) { return kv.second < now_s; });
  }
  s.revoked.insert_or_assign(jti, expires_at_s);
}

bool TokenCache::revoked_here(const std::string& jti) {
  Shard& s = shard(jti);
  std::lock_guard lock(s.mutex);
  return s.revoked.count(jti) > 0;
}

}  // namespace parley::auth
