// How long the Redis broker waits before its next connection attempt:
// doubling from a floor to a ceiling, each wait drawn at random from its
// upper half so that the nodes of a cluster do not all knock at once when
// Redis comes back. Reset after a connection succeeds.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace parley::cluster {

class ReconnectBackoff {
 public:
  using Duration = std::chrono::milliseconds;

  ReconnectBackoff(Duration floor, Duration ceiling)
      : floor_(std::max(floor, Duration(1))), ceiling_(std::max(ceiling, floor_)), next_(floor_) {}

  // The wait before the next attempt, within [ceiling/2, ceiling] at most.
  Duration next() {
    const Duration bound = next_;
    next_ = std::min(next_ * 2, ceiling_);
    std::uniform_int_distribution<Duration::rep> pick(bound.count() / 2, bound.count());
    return Duration(pick(random_));
  }

  void reset() { next_ = floor_; }

 private:
  Duration floor_;
  Duration ceiling_;
  Duration next_;
  std::minstd_rand random_{std::random_device{}()};
};

}  // namespace parley::cluster
