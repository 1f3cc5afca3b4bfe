#include "auth/token_cache.hpp"

#include <functional>

#include "core/clock.hpp"

namespace parley::auth {

TokenCache::TokenCache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_per_shard_(std::max<std::size_t>(1, max_entries / 16)) {}

TokenCache::Shard& TokenCache::shard(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::optional<TokenCache::Hit> TokenCache::find(const std::string& token, std::int64_t now_s) {
  if (ttl_.count() == 0) return std::nullopt;
  std::optional<Hit> hit;
  {
    Shard& s = shard(token);
    std::lock_guard lock(s.mutex);
    auto it = s.entries.find(token);
    if (it == s.entries.end()) return std::nullopt;
    if (Clock::now() >= it->second.until || it->second.hit.exp <= now_s) {
      s.entries.erase(it);
      return std::nullopt;
    }
    hit = it->second.hit;
  }
  if (revoked_here(hit->jti)) return std::nullopt;
  return hit;
}

void TokenCache::insert(const std::string& token, Hit hit) {
  if (ttl_.count() == 0 || revoked_here(hit.jti)) return;
  Shard& s = shard(token);
  std::lock_guard lock(s.mutex);
  if (s.entries.size() >= max_per_shard_) s.entries.clear();
  s.entries.insert_or_assign(token, Entry{std::move(hit), Clock::now() + ttl_});
}

void TokenCache::revoke(const std::string& jti, std::int64_t expires_at_s) {
  // Entries are keyed by token; a revoked jti is refused by find() through
  // the revoked set, so nothing else needs erasing.
  Shard& s = revoked_shard(jti);
  std::lock_guard lock(s.mutex);
  if (s.revoked.size() >= max_per_shard_) {
    const std::int64_t now_s = core::now_ms() / 1000;
    std::erase_if(s.revoked, [now_s](const auto& kv) { return kv.second < now_s; });
  }
  s.revoked.insert_or_assign(jti, expires_at_s);
}

bool TokenCache::revoked_here(const std::string& jti) {
  Shard& s = revoked_shard(jti);
  std::lock_guard lock(s.mutex);
  return s.revoked.count(jti) > 0;
}

}  // namespace parley::auth
