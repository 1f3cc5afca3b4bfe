#include "core/keyed_counter.hpp"

#include <functional>

namespace parley::core {

const KeyedCounter::Shard& KeyedCounter::shard(const std::string& key) const {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

KeyedCounter::Shard& KeyedCounter::shard(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::size_t KeyedCounter::increment(const std::string& key) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mutex);
  return ++s.counts[key];
}

std::size_t KeyedCounter::try_increment(const std::string& key, std::size_t limit) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mutex);
  auto& n = s.counts[key];
  if (n >= limit) {
    if (n == 0) s.counts.erase(key);
    return 0;
  }
  return ++n;
}

std::size_t KeyedCounter::decrement(const std::string& key) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mutex);
  auto it = s.counts.find(key);
  if (it == s.counts.end()) return 0;
  if (--it->second > 0) return it->second;
  s.counts.erase(it);
  return 0;
}

std::size_t KeyedCounter::count(const std::string& key) const {
  const Shard& s = shard(key);
  std::lock_guard lock(s.mutex);
  auto it = s.counts.find(key);
  return it == s.counts.end() ? 0 : it->second;
}

std::vector<std::string> KeyedCounter::keys() const {
  std::vector<std::string> out;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [key, n] : s.counts) out.push_back(key);
  }
  return out;
}

}  // namespace parley::core
