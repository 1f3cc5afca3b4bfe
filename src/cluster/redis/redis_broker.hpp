// RedisBroker: the Broker contract (cluster/broker.hpp) across the nodes of
// a deployment, through Redis Pub/Sub. Selected by REDIS_URL.
//
// DESIGN
// - Channel `c` is the Redis channel `<prefix>c`, so several deployments
//   can share one Redis (Pub/Sub ignores the database number: only the
//   prefix keeps them apart).
// - This node's own publications reach this node's handlers directly:
//   publish() posts the payload to the delivery thread at once, and also
//   queues it for Redis inside an envelope naming this broker (a random
//   node id, cluster/redis/redis_envelope.hpp). When Redis echoes it back
//   to this node's subscription the id is recognised and the echo dropped.
//   So local delivery never waits on Redis and keeps working while Redis is
//   down, and no payload is delivered twice: a payload is delivered here
//   exactly once, when published, whether its echo comes back at once,
//   after a reconnect (for one queued while Redis was down), or never.
//   (socket.io's Redis adapter skips its own messages the same way.)
// - Threads. publish(), any thread: a mutex push onto the outbound queue,
//   and one eventfd write when the queue was empty; never the network.
//   The connection thread owns two Redis connections (a subscribed
//   connection may send only (UN)SUBSCRIBE and PING, so PUBLISH needs the
//   other): it connects, subscribes, pipelines PUBLISHes and reads
//   messages, polling both sockets and the eventfd; on any error it drops
//   both connections and reconnects after an exponential backoff. The
//   delivery thread runs every handler, local and remote payloads alike,
//   one at a time in the order they were posted.
// - Order: one publisher's payloads on one channel enter the outbound queue
//   in order, leave on one connection in order, and Redis delivers them to
//   each subscribed connection in order; the reader posts them to the
//   delivery thread in that order. PUBLISHes in flight when a connection
//   breaks are not sent again (Redis may have delivered them): they may be
//   lost, never reordered or doubled.
// - While Redis is down the outbound queue keeps the newest
//   `max_queued` payloads (older ones are dropped and counted) and sends
//   them once connected again; other nodes may miss what was published
//   meanwhile, as the contract allows (at most once).
// - The hiredis calls happen on the connection thread only and use no
//   callbacks; nothing thrown crosses them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/broker.hpp"
#include "cluster/redis/redis_url.hpp"
#include "core/thread_pool.hpp"

namespace parley::cluster {

class RedisConnection;

// Prefix of every Redis channel the broker uses, unless REDIS_PREFIX says
// otherwise.
inline constexpr const char* kDefaultRedisPrefix = "parley:";
// Payloads waiting to go to Redis: about a second of a busy node's events,
// and what a short Redis restart accumulates. Beyond it the oldest go.
inline constexpr std::size_t kDefaultRedisMaxQueued = 100'000;
// Bytes of those payloads; a single payload above it is never sent.
inline constexpr std::size_t kDefaultRedisMaxQueuedBytes = 64U << 20;
// Payloads waiting for the delivery thread (from this node and from Redis);
// beyond it new ones are dropped and counted rather than piling up behind
// a stuck handler.
inline constexpr std::size_t kDefaultRedisMaxPendingDeliveries = 100'000;
// PUBLISHes written per turn of the connection thread before it reads the
// replies and the subscription again.
inline constexpr std::size_t kRedisPublishBatch = 1024;
inline constexpr std::chrono::milliseconds kDefaultRedisConnectTimeout{2000};
// A write, a handshake command's answer, a PUBLISH's answer, or a PING's
// answer on an idle subscription taking longer than this breaks the link.
inline constexpr std::chrono::milliseconds kDefaultRedisIoTimeout{5000};
// An idle subscription is PINGed this often, to find a silent dead link.
inline constexpr std::chrono::milliseconds kDefaultRedisPingInterval{5000};
// Reconnect waits: doubling from the floor to the ceiling.
inline constexpr std::chrono::milliseconds kDefaultRedisBackoffFloor{100};
inline constexpr std::chrono::milliseconds kDefaultRedisBackoffCeiling{5000};

struct RedisBrokerOptions {
  RedisUrl url;
  std::string prefix = kDefaultRedisPrefix;
  std::size_t max_queued = kDefaultRedisMaxQueued;
  std::size_t max_queued_bytes = kDefaultRedisMaxQueuedBytes;
  std::size_t max_pending_deliveries = kDefaultRedisMaxPendingDeliveries;
  std::chrono::milliseconds connect_timeout = kDefaultRedisConnectTimeout;
  std::chrono::milliseconds io_timeout = kDefaultRedisIoTimeout;
  std::chrono::milliseconds ping_interval = kDefaultRedisPingInterval;
  std::chrono::milliseconds backoff_floor = kDefaultRedisBackoffFloor;
  std::chrono::milliseconds backoff_ceiling = kDefaultRedisBackoffCeiling;
};

// Counters for metrics and tests; any thread may read them.
struct RedisBrokerStats {
  std::atomic<std::uint64_t> published{0};         // PUBLISHes Redis answered
  std::atomic<std::uint64_t> received{0};          // payloads from other nodes
  std::atomic<std::uint64_t> queue_dropped{0};     // outbound queue full or payload too large
  std::atomic<std::uint64_t> lost_in_flight{0};    // unanswered when a link broke
  std::atomic<std::uint64_t> delivery_dropped{0};  // delivery thread too far behind
  std::atomic<std::uint64_t> connects{0};          // links established
  std::atomic<std::uint64_t> connect_failures{0};  // attempts that failed
};

class RedisBroker final : public Broker {
 public:
  // Starts the connection thread, which connects in the background: the
  // constructor never waits for Redis.
  explicit RedisBroker(RedisBrokerOptions options);
  ~RedisBroker() override;
  RedisBroker(const RedisBroker&) = delete;
  RedisBroker& operator=(const RedisBroker&) = delete;

  void publish(std::string channel, std::string payload) override;
  void subscribe(std::string channel, Handler handler) override;
  // Joins the connection thread (closing both connections; it may first
  // finish one connect or I/O wait, bounded by their timeouts), then the
  // delivery thread. Not from a handler.
  void stop() override;

  // Connected to Redis with every channel subscribed so far subscribed
  // there: other nodes' publications reach this node. Any thread (health).
  bool connected() const;
  // Waits until connected() is `state` or the timeout passes; returns
  // connected() == state.
  bool wait_connected(bool state, std::chrono::milliseconds timeout) const;
  const RedisBrokerStats& stats() const { return stats_; }
  const RedisBrokerOptions& options() const { return options_; }

 private:
  struct Outbound {
    std::string channel;  // with the prefix
    std::string message;  // the envelope
  };
  struct Link;

  void deliver_later(std::string channel, std::string payload);
  void run_connection();
  std::optional<Link> open_link(std::string& error) const;
  std::string serve(Link& link);
  bool send_work(Link& link, bool& more, std::string& error);
  bool read_subscription(Link& link, std::string& error);
  bool read_publish_replies(Link& link, std::string& error);
  std::string check_health(Link& link) const;
  void on_message(std::string_view channel, std::string_view message);
  void set_link(bool up, std::size_t confirmed);
  void wait_backoff(std::chrono::milliseconds wait) const;
  void wake() const;
  void drain_wake() const;

  const RedisBrokerOptions options_;
  const std::uint64_t node_id_;
  RedisBrokerStats stats_;
  int wake_fd_ = -1;  // eventfd: publish(), subscribe() and stop() wake the connection thread
  std::atomic<bool> stopping_{false};

  // Guards what publishers, subscribe(), connected() and the connection
  // thread share: the outbound queue, the channel list, the link state.
  mutable std::mutex mutex_;
  mutable std::condition_variable link_changed_;
  std::deque<Outbound> queue_;
  std::size_t queued_bytes_ = 0;
  bool wake_pending_ = false;          // an eventfd write not yet consumed
  std::vector<std::string> channels_;  // prefixed, each once, in subscribe order
  bool link_up_ = false;
  std::size_t confirmed_ = 0;  // channels_ Redis confirmed on this link

  // Touched only on the delivery thread (subscribe() posts its insertion
  // there, ahead of any payload for the channel).
  std::unordered_map<std::string, std::vector<Handler>> handlers_;
  core::ThreadPool delivery_{"broker", 1};  // one thread: order kept

  std::mutex stop_mutex_;  // makes stop() idempotent from any thread
  std::thread connection_;
};

}  // namespace parley::cluster
