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

bool DeviceFeed::live(const OutgoingPtr& item) {
  if (replaying_) {
    if (held_.size() < max_held_) held_.push_back(item);
    return false;
  }
  return sent_[item->message.conversation_id].mark(item->message.seq);
}

void DeviceFeed::page(const std::vector<OutgoingPtr>& items) {
  for (const auto& item : items) {
    const store::Message& m = item->message;
    after_ = store::PendingCursor{m.created_at, m.conversation_id, m.seq};
    sent_[m.conversation_id].mark(m.seq);
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
    if (sent_[item->message.conversation_id].mark(item->message.seq)) {
      out.push_back(std::move(item));
    }
  }
  return out;
}

}  // namespace parley::chat
