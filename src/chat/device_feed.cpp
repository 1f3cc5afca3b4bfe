#include "chat/device_feed.hpp"

#include <algorithm>
#include <tuple>

namespace parley::chat {

bool DeviceFeed::live(const OutgoingPtr& item) {
  if (replaying_) {
    if (held_.size() < max_held_) held_.push_back(item);
    return false;
  }
  auto& last = sent_seq_[item->message.conversation_id];
  if (item->message.seq <= last) return false;
  last = item->message.seq;
  return true;
}

void DeviceFeed::page(const std::vector<OutgoingPtr>& items) {
  for (const auto& item : items) {
    const store::Message& m = item->message;
    after_ = store::PendingCursor{m.created_at, m.conversation_id, m.seq};
    auto& seq = sent_seq_[m.conversation_id];
    seq = std::max(seq, m.seq);
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
    auto& last = sent_seq_[item->message.conversation_id];
    if (item->message.seq <= last) continue;
    last = item->message.seq;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace parley::chat
