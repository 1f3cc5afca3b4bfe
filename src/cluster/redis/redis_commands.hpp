// RedisCommands: one command connection to Redis for the state the nodes
// of a deployment share (presence, rate limits), with Lua scripts so that
// each change is one atomic step in Redis.
//
// DESIGN
// - Threads. send() and eval(), any thread: a mutex push onto the queue and
//   a notify; never the network. The connection thread connects, loads the
//   scripts, then writes whatever is queued in one pipelined batch and
//   reads the batch's replies in order, calling each command's handler with
//   its reply. Handlers run on that thread, one at a time, and must not
//   block (they post their work elsewhere).
// - Nothing is queued while the link is down: send() returns false and the
//   caller answers from what it knows on its own. When a link breaks, the
//   handlers of the commands in flight or queued get a null reply (their
//   effect in Redis is unknown), then the thread reconnects with backoff.
// - on_link_up: a hook that runs on the connection thread once each new
//   link is ready, before send() accepts anything on it. The hook sends its
//   commands with send_first(), which go out ahead of all later ones: a
//   user of the link resynchronises its state there.
// - on_tick: a hook that runs on the connection thread every `tick` while
//   the link is up (heartbeats).
// - The queue is bounded: beyond `max_queued` commands send() refuses, as
//   when the link is down.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/redis/redis_url.hpp"

struct redisReply;

namespace parley::cluster {

inline constexpr std::size_t kDefaultRedisMaxQueuedCommands = 100'000;

struct RedisCommandsOptions {
  RedisUrl url;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds io_timeout{5000};
  std::chrono::milliseconds backoff_floor{100};
  std::chrono::milliseconds backoff_ceiling{5000};
  std::chrono::milliseconds tick{5000};
  std::size_t max_queued = kDefaultRedisMaxQueuedCommands;
};

// Counters for metrics; any thread may read them.
struct RedisCommandsStats {
  std::atomic<std::uint64_t> answered{0};    // replies handed to their handlers
  std::atomic<std::uint64_t> unanswered{0};  // handlers given no reply (a link broke)
  std::atomic<std::uint64_t> not_sent{0};    // send() refused: link down or queue full
};

class RedisCommands {
 public:
  // The reply, or null when there was none (the link broke first).
  using Handler = std::function<void(const redisReply*)>;
  using ScriptId = std::size_t;

  explicit RedisCommands(RedisCommandsOptions options);
  ~RedisCommands();
  RedisCommands(const RedisCommands&) = delete;
  RedisCommands& operator=(const RedisCommands&) = delete;

  // Start-up only, before start(): a script to load on every link, and the
  // hooks.
  ScriptId add_script(std::string lua);
  void on_link_up(std::function<void()> hook) { on_link_up_ = std::move(hook); }
  void on_tick(std::function<void()> hook) { on_tick_ = std::move(hook); }
  void start();

  // Queues a command; false (and `handler` is not called) when the link is
  // down or the queue full.
  bool send(std::vector<std::string> args, Handler handler);
  // EVALSHA of a script added above.
  bool eval(ScriptId script, std::vector<std::string> keys, std::vector<std::string> args,
            Handler handler);
  // From the on_link_up hook only: queued ahead of everything sent later.
  void eval_first(ScriptId script, std::vector<std::string> keys, std::vector<std::string> args,
                  Handler handler);
  // From a handler or hook: drops the link (the next one resynchronises).
  void reset() { reset_requested_ = true; }
  void stop();

  bool connected() const;
  const RedisCommandsStats& stats() const { return stats_; }

 private:
  struct Command {
    std::vector<std::string> args;
    Handler handler;
  };
  std::vector<std::string> evalsha(ScriptId script, std::vector<std::string> keys,
                                   std::vector<std::string> args) const;
  void run();
  std::string serve(class RedisConnection& conn);
  void fail_all();

  const RedisCommandsOptions options_;
  RedisCommandsStats stats_;
  std::vector<std::string> scripts_;  // Lua text, by ScriptId
  std::vector<std::string> shas_;     // their SHA1s, once loaded (connection thread)
  std::function<void()> on_link_up_;
  std::function<void()> on_tick_;

  mutable std::mutex mutex_;  // guards queue_, up_
  std::condition_variable wake_;
  std::deque<Command> queue_;
  bool up_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> reset_requested_{false};
  std::thread thread_;
};

}  // namespace parley::cluster
