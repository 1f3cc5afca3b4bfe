// parley::store receipts: a message's delivered/read state derived from its
// conversation's member cursors and receipt marks (the model in store.hpp).
// Pure: each backend reads the cursors and marks its own way and shares
// these rules.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/store.hpp"

namespace parley::store {

struct MemberCursors {
  std::string user_id;
  std::int64_t joined_seq = 0;  // the conversation's last seq when they joined
  std::int64_t delivered_seq = 0;
  std::int64_t read_seq = 0;
};

enum class ReceiptKind : int { delivered = 0, read = 1 };

// One advance of a member's cursor: messages up to `up_to_seq` at `at`.
struct ReceiptMark {
  std::int64_t up_to_seq = 0;
  EpochMs at = 0;
};

// A member's marks of one kind with up_to_seq >= `lo`, ascending, at least
// up to the first that covers `hi` (more is harmless).
using MarkReader = std::function<core::Result<std::vector<ReceiptMark>>(
    const std::string& user_id, ReceiptKind kind, std::int64_t lo, std::int64_t hi)>;

// Sets `in_group`, `to` (a direct message's recipient), the counts and the
// times of `messages`, all of one conversation of `type` whose current
// members are `members`. A message counts for every other member (in a
// group, those who joined before it); it is delivered (read) when all of
// them have it, at the time of the last of them, and never when it counts
// for nobody. Reads marks only for messages delivered (read) by all.
core::Result<void> derive_receipts(ConversationType type, const std::vector<MemberCursors>& members,
                                   std::vector<Message>& messages, const MarkReader& marks);

}  // namespace parley::store
