// Starts connection attempts on one worker at most `limit` at a time: the
// server refuses more than MAX_PENDING_SESSIONS_PER_IP (default 256)
// unauthenticated sessions per address, and a burst of thousands of
// handshakes measures the listen backlog rather than the server.
// Threads: the worker's own.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace parley::bench {

class ConnectQueue {
 public:
  explicit ConnectQueue(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}

  void add(std::function<void()> start_attempt) { pending_.push_back(std::move(start_attempt)); }
  // Starts attempts up to the limit.
  void start() {
    while (active_ < limit_ && next_ < pending_.size()) {
      ++active_;
      // Moved out first: the attempt may end, and call finished(), at once.
      auto attempt = std::move(pending_[next_++]);
      attempt();
    }
  }
  // One attempt ended (connected or failed): the next may start.
  void finished() {
    if (active_ > 0) --active_;
    start();
  }

 private:
  std::size_t limit_;
  std::size_t active_ = 0;
  std::size_t next_ = 0;
  std::vector<std::function<void()>> pending_;
};

}  // namespace parley::bench
