// Queries shared by PgStore's message and group translation units: reading
// messages, members and their cursors, and conversation summaries, on any
// connection (a reader's, or the writer's inside its transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/pg/connection.hpp"
#include "store/receipts.hpp"
#include "store/store.hpp"

namespace parley::store::pg {

// Message columns in read_message's order.
inline constexpr const char* kMessageColumns =
    "conversation_id, seq, id, sender_id, text, temp_id, created_at";

Message read_message(const Rows& rows, int row, int first = 0);

// A direct conversation's unique key: "<smaller user id>:<larger user id>".
std::string direct_key(const std::string& a, const std::string& b);

core::Error validation(std::string field, std::string problem);

// A conversation's type and its members with their cursors, in join order.
struct Membership {
  ConversationType type = ConversationType::direct;
  std::vector<MemberCursors> members;
};

// nullopt when there is no such conversation.
core::Result<std::optional<Membership>> membership(Connection& db,
                                                   const std::string& conversation_id);

// The row of a conversation, locked (FOR UPDATE) until the writer's
// transaction ends: from then on no other node changes its members, owner
// or name, nor appends to it, before this transaction commits. Writer only.
struct LockedConversation {
  ConversationType type = ConversationType::direct;
  std::string direct_key;  // a direct conversation's
  std::string owner_id;    // a group's; empty once its last member left
  std::int64_t last_seq = 0;
};
core::Result<std::optional<LockedConversation>> lock_conversation(Connection& db,
                                                                  const std::string& id);

// Derives the receipts (store/receipts.hpp) of messages of one conversation.
core::Result<void> fill_receipts(Connection& db, const std::string& conversation_id,
                                 std::vector<Message>& messages);

// A retry's original: the message `from` sent with `temp_id`, if any.
core::Result<std::optional<Message>> message_by_temp_id(Connection& db, const std::string& from,
                                                        const std::string& temp_id);

struct Resolved {
  bool found = false;
  std::string conversation_id;      // empty: the pair has not talked yet
  std::vector<std::string> others;  // the other members, in join order
};

// `target` as a conversation of the caller, else as a peer user.
core::Result<Resolved> resolve(Connection& db, const std::string& caller,
                               const std::string& target);

// The caller's conversations (all, or the one `only`), most recent activity
// first.
core::Result<std::vector<ConversationSummary>> conversations_of(
    Connection& db, const std::string& me, const std::optional<std::string>& only);

// The conversation `id` as `viewer` sees it, whether or not a member (a
// member who has just left is told the group without them); unread count
// left 0. nullopt when there is no such conversation.
core::Result<std::optional<ConversationSummary>> conversation_seen_by(Connection& db,
                                                                      const std::string& id,
                                                                      const std::string& viewer);

}  // namespace parley::store::pg
