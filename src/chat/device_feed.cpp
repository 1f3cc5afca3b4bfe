#include "chat/device_feed.hpp"

#include <algorithm>
#include <tuple>

namespace parley::chat {

bool SentSeqs::mark(std::int64_t seq) {
  if (seq > top_) {
    const auto shift = static_cast<std::uint64_t>(seq - top_);
    below_ = shift >= kSeqWindow ? std::bitset<kSeqWindow>() : below_ << shift;
    if (top_ > 0 && shift - 1 < kSeqWindow) below_.set(shift - 1);
    top_ = seq;
    return true;
  }
  if (seq == top_) return false;
  const auto behind = static_cast<std::uint64_t>(top_ - 1 - seq);
  if (behind >= kSeqWindow || below_.test(behind)) return false;
  below_.set(behind);
  return true;
}

bool SentSeqs::sent(std::int64_t seq) const {
  if (seq > top_) return false;
  if (seq == top_) return true;
  const auto behind = static_cast<std::uint64_t>(top_ - 1 - seq);
  return behind >= kSeqWindow || below_.test(behind);
}

void DeviceFeed::account(Conversation& c, std::int64_t seq, bool jump) {
  c.sent.mark(seq);
  if (c.frontier == 0 || (jump && seq > c.frontier)) c.frontier = seq;
  // Far behind the newest: what the window no longer holds counts as done.
  const auto lowest = c.sent.top() - static_cast<std::int64_t>(SentSeqs::kSeqWindow);
  if (c.frontier < lowest) c.frontier = lowest;
  while (c.frontier < c.sent.top() && c.sent.sent(c.frontier + 1)) ++c.frontier;
}

void DeviceFeed::release(Conversation& c, std::vector<OutgoingPtr>& out, bool all) {
  while (!c.waiting.empty()) {
    auto first = c.waiting.begin();
    if (!all && first->first > c.frontier + 1) break;
    if (!c.sent.sent(first->first)) out.push_back(std::move(first->second));
    // Given up on (all): the gap below it is left behind.
    account(c, first->first, all);
    c.waiting.erase(first);
  }
}

std::vector<OutgoingPtr> DeviceFeed::live(const OutgoingPtr& item, Clock::time_point now) {
  std::vector<OutgoingPtr> out;
  if (replaying_) {
    if (held_.size() < max_held_) held_.push_back(item);
    return out;
  }
  Conversation& c = conversations_[item->message.conversation_id];
  const std::int64_t seq = item->message.seq;
  if (c.sent.sent(seq) || c.waiting.count(seq) > 0) return out;
  const bool had_waiting = !c.waiting.empty();
  // The first of the conversation here, the next one, or one arriving
  // after a wait gave up on it: at once.
  if (c.frontier == 0 || seq <= c.frontier + 1 || reorder_wait_.count() == 0) {
    account(c, seq, false);
    out.push_back(item);
    release(c, out, false);
  } else {
    if (!had_waiting) c.waiting_since = now;
    c.waiting.emplace(seq, item);
    if (c.waiting.size() > kMaxWaiting) release(c, out, true);
  }
  if (had_waiting && c.waiting.empty()) --waiting_conversations_;
  if (!had_waiting && !c.waiting.empty()) ++waiting_conversations_;
  return out;
}

std::vector<OutgoingPtr> DeviceFeed::own(const std::string& conversation_id, std::int64_t seq) {
  std::vector<OutgoingPtr> out;
  Conversation& c = conversations_[conversation_id];
  const bool had_waiting = !c.waiting.empty();
  account(c, seq, false);
  release(c, out, false);
  if (had_waiting && c.waiting.empty()) --waiting_conversations_;
  return out;
}

bool DeviceFeed::resync_due(Clock::time_point now) {
  const auto due = next_due();
  if (!due || now < *due || replaying_) return false;
  for (auto& [id, c] : conversations_) {
    for (auto& [seq, item] : c.waiting) {
      // Beyond the hold: pending in the store if it is to this user, as in
      // any replay.
      if (held_.size() < max_held_) held_.push_back(std::move(item));
    }
    c.waiting.clear();
  }
  waiting_conversations_ = 0;
  replaying_ = true;
  after_.reset();
  return true;
}

std::optional<DeviceFeed::Clock::time_point> DeviceFeed::next_due() const {
  std::optional<Clock::time_point> next;
  if (waiting_conversations_ == 0) return next;
  for (const auto& [id, c] : conversations_) {
    if (c.waiting.empty()) continue;
    const auto at = c.waiting_since + reorder_wait_;
    if (!next || at < *next) next = at;
  }
  return next;
}

void DeviceFeed::page(const std::vector<OutgoingPtr>& items) {
  for (const auto& item : items) {
    const store::Message& m = item->message;
    after_ = store::PendingCursor{m.created_at, m.conversation_id, m.seq};
    // What the replay skipped below it (the user's own messages, ones
    // delivered before) is no gap.
    account(conversations_[m.conversation_id], m.seq, true);
  }
}

std::vector<OutgoingPtr> DeviceFeed::last_page(std::vector<OutgoingPtr> items) {
  replaying_ = false;
  items.reserve(items.size() + held_.size());
  for (auto& item : held_) items.push_back(std::move(item));
  held_.clear();
  std::stable_sort(items.begin(), items.end(), [](const OutgoingPtr& x, const OutgoingPtr& y) {
    return std::tie(x->message.conversation_id, x->message.seq) <
           std::tie(y->message.conversation_id, y->message.seq);
  });
  std::vector<OutgoingPtr> out;
  out.reserve(items.size());
  for (auto& item : items) {
    Conversation& c = conversations_[item->message.conversation_id];
    if (c.sent.sent(item->message.seq)) continue;
    account(c, item->message.seq, true);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace parley::chat
