// What a test's broker handlers received (on the broker's thread), for the
// test's thread to wait on with a deadline instead of sleeping.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "test_redis.hpp"

namespace parley::test {

class Received {
 public:
  void add(std::string item) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    changed_.notify_all();
  }

  // False when fewer than `n` arrived by the deadline.
  bool wait_for_count(std::size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kEventDeadline, [&] { return items_.size() >= n; });
  }

  // False when `item` did not arrive by the deadline.
  bool wait_for(const std::string& item) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kEventDeadline, [&] {
      return std::find(items_.begin(), items_.end(), item) != items_.end();
    });
  }

  std::vector<std::string> items() const {
    std::lock_guard lock(mutex_);
    return items_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> items_;
};

}  // namespace parley::test
