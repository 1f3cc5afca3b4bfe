#include "chat/delivered_cursors.hpp"

#include <algorithm>
#include <unordered_set>

namespace parley::chat {

bool DeliveredCursors::add(const store::Message& m, const std::string& recipient) {
  std::string key = m.conversation_id;
  key.push_back('\n');
  key += recipient;
  Advance& a = waiting_[key];
  if (a.conversation_id.empty()) {
    a.conversation_id = m.conversation_id;
    a.user_id = recipient;
  }
  a.up_to_seq = std::max(a.up_to_seq, m.seq);
  a.acked.push_back(Acked{m.seq, m.id, m.from, m.in_group});
  ++acks_waiting_;
  return in_flight_ == 0;
}

std::vector<DeliveredCursors::Advance> DeliveredCursors::take() {
  std::vector<Advance> out;
  if (in_flight_ > 0) return out;
  out.reserve(waiting_.size());
  for (auto& [key, advance] : waiting_) out.push_back(std::move(advance));
  waiting_.clear();
  acks_waiting_ = 0;
  in_flight_ = out.size();
  return out;
}

bool DeliveredCursors::finished() {
  if (in_flight_ > 0) --in_flight_;
  return in_flight_ == 0 && !waiting_.empty();
}

std::vector<DeliveredReceipt> DeliveredCursors::receipts(const Advance& advance,
                                                         std::int64_t before, core::EpochMs at) {
  std::vector<DeliveredReceipt> out;
  std::unordered_set<std::int64_t> told;
  for (const Acked& a : advance.acked) {
    if (a.seq <= before || !told.insert(a.seq).second) continue;
    out.push_back(DeliveredReceipt{a.message_id, advance.conversation_id, a.sender_id, at,
                                   advance.user_id, a.in_group});
  }
  return out;
}

}  // namespace parley::chat
