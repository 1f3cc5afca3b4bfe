#include "store/receipts.hpp"

#include <algorithm>
#include <limits>

namespace parley::store {

namespace {

bool counts_for(ConversationType type, const MemberCursors& member, const Message& m) {
  if (member.user_id == m.from) return false;
  return type == ConversationType::direct || member.joined_seq < m.seq;
}

}  // namespace

core::Result<void> derive_receipts(ConversationType type, const std::vector<MemberCursors>& members,
                                   std::vector<Message>& messages, const MarkReader& marks) {
  const bool group = type == ConversationType::group;
  for (Message& m : messages) {
    m.in_group = group;
    m.delivered_count = 0;
    m.read_count = 0;
    m.delivered_at.reset();
    m.read_at.reset();
    if (group) {
      m.to.clear();
      continue;
    }
    for (const auto& member : members) {
      if (member.user_id != m.from) m.to = member.user_id;
    }
  }
  const std::size_t n = messages.size();
  for (const ReceiptKind kind : {ReceiptKind::delivered, ReceiptKind::read}) {
    const auto cursor = [kind](const MemberCursors& c) {
      return kind == ReceiptKind::delivered ? c.delivered_seq : c.read_seq;
    };
    std::vector<std::int64_t> counted(n, 0), covered(n, 0);
    for (const auto& member : members) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!counts_for(type, member, messages[i])) continue;
        ++counted[i];
        if (cursor(member) >= messages[i].seq) ++covered[i];
      }
    }
    std::vector<bool> by_all(n, false);
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (group) {
        (kind == ReceiptKind::delivered ? messages[i].delivered_count : messages[i].read_count) =
            covered[i];
      }
      by_all[i] = counted[i] > 0 && covered[i] == counted[i];
      any = any || by_all[i];
    }
    if (!any) continue;
    // The time of the last member to get there: each member's first mark
    // covering the message, the latest of them.
    std::vector<EpochMs> at(n, 0);
    std::vector<bool> missing(n, false);
    for (const auto& member : members) {
      std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (!by_all[i] || !counts_for(type, member, messages[i])) continue;
        lo = std::min(lo, messages[i].seq);
        hi = std::max(hi, messages[i].seq);
      }
      if (hi == 0) continue;
      auto found = marks(member.user_id, kind, lo, hi);
      if (!found) return core::fail(std::move(found.error()));
      for (std::size_t i = 0; i < n; ++i) {
        if (!by_all[i] || !counts_for(type, member, messages[i])) continue;
        const auto it = std::lower_bound(
            found->begin(), found->end(), messages[i].seq,
            [](const ReceiptMark& mark, std::int64_t seq) { return mark.up_to_seq < seq; });
        if (it == found->end()) {
          missing[i] = true;  // a cursor past it without a mark: not claimed
          continue;
        }
        at[i] = std::max(at[i], it->at);
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!by_all[i] || missing[i]) continue;
      (kind == ReceiptKind::delivered ? messages[i].delivered_at : messages[i].read_at) = at[i];
    }
  }
  return {};
}

}  // namespace parley::store
