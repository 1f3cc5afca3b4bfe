#include "socketio/ack_deadlines.hpp"

#include <algorithm>

namespace parley::socketio {

bool AckDeadlines::add(std::uint32_t id, Clock::time_point deadline) {
  if (entries_.empty() || entries_.back().first <= deadline) {
    entries_.emplace_back(deadline, id);
  } else {
    const auto at =
        std::upper_bound(entries_.begin(), entries_.end(), deadline,
                         [](Clock::time_point d, const auto& entry) { return d < entry.first; });
    entries_.emplace(at, deadline, id);
  }
  if (!armed_ || deadline < *armed_) {
    armed_ = deadline;
    return true;
  }
  return false;
}

std::vector<std::uint32_t> AckDeadlines::expire(Clock::time_point now) {
  std::vector<std::uint32_t> due;
  while (!entries_.empty() && entries_.front().first <= now) {
    due.push_back(entries_.front().second);
    entries_.pop_front();
  }
  armed_.reset();
  return due;
}

void AckDeadlines::prune(const std::function<bool(std::uint32_t)>& pending) {
  while (!entries_.empty() && !pending(entries_.front().second)) entries_.pop_front();
}

std::optional<AckDeadlines::Clock::time_point> AckDeadlines::next() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front().first;
}

}  // namespace parley::socketio
