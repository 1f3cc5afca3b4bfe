// Queries shared by SqliteStore's message and group translation units:
// reading messages, member cursors and conversation summaries on any
// connection (a reader's, or the writer's inside its transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/receipts.hpp"
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

namespace parley::store::sqlite {

// Message columns in read_message's order.
inline constexpr const char* kMessageColumns =
    "conversation_id, seq, id, sender_id, text, temp_id, created_at";

Message read_message(const Statement& st, int first = 0);

struct ConversationRow {
  std::string id;
  ConversationType type = ConversationType::direct;
  std::string name;
  std::string owner_id;
  std::string direct_key;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
  std::int64_t last_seq = 0;
};

core::Result<std::optional<ConversationRow>> conversation_row(Connection& db,
                                                              const std::string& id);

// The members of a conversation, in join order.
core::Result<std::vector<MemberCursors>> member_cursors(Connection& db,
                                                        const std::string& conversation_id);

// Derives the receipts (store/receipts.hpp) of messages of one conversation.
core::Result<void> fill_receipts(Connection& db, const std::string& conversation_id,
                                 std::vector<Message>& messages);
// The same for a conversation whose row is read already.
core::Result<void> fill_receipts(Connection& db, const ConversationRow& row,
                                 std::vector<Message>& messages);

// The other members' messages above `read_seq`.
core::Result<std::int64_t> unread_count(Connection& db, const std::string& conversation_id,
                                        const std::string& user_id, std::int64_t read_seq);

// The conversation as `viewer` sees it; its unread count is left 0.
core::Result<ConversationSummary> summarize(Connection& db, const ConversationRow& row,
                                            const std::string& viewer);

// The caller's conversations (all, or the one `only`), most recent activity
// first.
core::Result<std::vector<ConversationSummary>> conversations_of(
    Connection& db, const std::string& me, const std::optional<std::string>& only);

}  // namespace parley::store::sqlite
