// A count per string key (connections per user, per client IP), sharded so
// that callers on different threads rarely share a lock. Keys whose count
// drops to zero are forgotten. Thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::core {

class KeyedCounter {
 public:
  // Returns the new count.
  std::size_t increment(const std::string& key);
  // Increments only while the count is below `limit`: the new count, or 0
  // when at the limit.
  std::size_t try_increment(const std::string& key, std::size_t limit);
  // Returns the new count (0 when the key was absent).
  std::size_t decrement(const std::string& key);
  std::size_t count(const std::string& key) const;
  std::vector<std::string> keys() const;

 private:
  struct Shard {
    mutable std::mutex mutex;  // guards counts
    std::unordered_map<std::string, std::size_t> counts;
  };
  const Shard& shard(const std::string& key) const;
  Shard& shard(const std::string& key);
  std::array<Shard, 16> shards_;
};

}  // namespace parley::core
