// parley::cluster broker: how the nodes of a deployment tell each other of
// real-time events (presence changes now; message fan-out and revocations
// when several nodes share one database).
//
// CONTRACT
// - publish(channel, payload) delivers the payload to every subscriber of
//   the channel on every node, this node included.
// - Delivery is at most once: a subscriber that is down, or a node cut off,
//   misses what was published meanwhile. Events that must not be lost
//   (messages) are stored first; the broker only says "look".
// - Order: the payloads one publisher publishes on one channel reach each
//   subscriber in that order. Nothing is promised across channels or
//   publishers.
// - Threads: publish() may be called from any thread and never blocks on
//   the network or the subscribers; handlers run on the broker's own thread
//   (never an I/O thread) and must not block.
// - subscribe() is for start-up, before traffic.
#pragma once

#include <functional>
#include <string>

namespace parley::cluster {

class Broker {
 public:
  using Handler = std::function<void(const std::string& payload)>;
  virtual ~Broker() = default;

  virtual void publish(std::string channel, std::string payload) = 0;
  virtual void subscribe(std::string channel, Handler handler) = 0;
  // Stops delivering; queued payloads are dropped. Idempotent.
  virtual void stop() = 0;
};

}  // namespace parley::cluster
