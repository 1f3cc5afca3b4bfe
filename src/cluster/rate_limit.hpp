// parley::cluster rate limit: a token bucket per key (a user id) that holds
// for the whole deployment, not per node: RATE_LIMIT_MESSAGES_PER_SEC with
// RATE_LIMIT_MESSAGES_BURST is what one user may send, whichever nodes
// their sockets are on.
//
// Threads: take() may be called from any thread and never blocks on the
// network; `done` runs on the caller's thread or on the limiter's own
// thread (never an I/O thread's) and must not block. While the shared
// state is out of reach each node limits on its own.
#pragma once

#include <functional>
#include <string>

namespace parley::cluster {

class RateLimit {
 public:
  struct Decision {
    bool allowed = true;
    int retry_after_seconds = 0;  // >= 1 when refused
  };
  virtual ~RateLimit() = default;
  virtual void take(const std::string& key, std::function<void(Decision)> done) = 0;
};

}  // namespace parley::cluster
