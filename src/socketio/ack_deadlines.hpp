// The deadlines of a socket's server-to-client acks, without a timer per
// emit: the socket keeps one timer armed for the earliest deadline and, when
// it fires, expires everything due. Pure (no clock, no I/O): the caller
// passes the time.
//
// Deadlines are kept in order in a deque. Emits with one timeout arrive in
// deadline order, so adding is a push at the back; a shorter timeout after a
// longer one is inserted in place. An answered ack is not searched for: its
// entry is dropped when it reaches the front (prune) or expires, and the
// caller ignores expired ids that are no longer pending.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace parley::socketio {

class AckDeadlines {
 public:
  using Clock = std::chrono::steady_clock;

  // Records that ack `id` is due by `deadline`. True when the socket must
  // arm (or re-arm) its timer: nothing was armed, or this deadline comes
  // before the armed one.
  bool add(std::uint32_t id, Clock::time_point deadline);

  // Removes and returns the ids due at `now`, earliest first; `armed()` is
  // false afterwards until rearm() is called for next().
  std::vector<std::uint32_t> expire(Clock::time_point now);

  // Drops answered acks from the front (`pending(id)` false), so that a
  // socket whose peer answers in order keeps this short.
  void prune(const std::function<bool(std::uint32_t)>& pending);

  // The earliest deadline still recorded.
  std::optional<Clock::time_point> next() const;
  // The socket armed its timer for `at`.
  void rearm(Clock::time_point at) { armed_ = at; }
  bool armed() const { return armed_.has_value(); }
  std::size_t size() const { return entries_.size(); }
  void clear() {
    entries_.clear();
    armed_.reset();
  }

 private:
  std::deque<std::pair<Clock::time_point, std::uint32_t>> entries_;  // by deadline
  std::optional<Clock::time_point> armed_;  // when the socket's timer fires
};

}  // namespace parley::socketio
