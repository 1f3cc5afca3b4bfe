// parley::store: the persistence contract the domain (auth, chat) relies on.
//
// DESIGN
// - Every operation is asynchronous: it returns at once and later invokes its
//   callback exactly once, on a thread the store owns (never the caller's).
//   Callbacks must be short and must not block: callers post the result back
//   to their own executor (the HTTP and socket layers do this). Callbacks
//   must not throw.
// - Writes are durable when their callback reports success: the transaction
//   holding them is committed per the store's durability setting (SQLite:
//   WAL with synchronous=FULL by default; PostgreSQL: synchronous commit).
//   Implementations batch concurrent writes into one transaction (group
//   commit); a write's callback runs only after its batch committed.
// - Reads never wait behind the writer (SQLite: WAL readers), and see every
//   write whose callback has already run.
// - Expected outcomes are values: conflict, not found (as std::nullopt).
//   Unexpected failures (I/O, corruption) are ErrorCode::internal with the
//   backend's text in Error::detail, never in Error::message.
// - close() completes queued work (its callbacks run before it returns).
//   Operations issued after close() began fail with ErrorCode::unavailable,
//   their callback running at once on the caller's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace parley::store {

using core::EpochMs;

template <typename T>
using Callback = std::function<void(core::Result<T>)>;

struct User {
  std::string id;  // ObjectId hex
  std::string name;
  std::string email;  // lower-cased
  std::optional<std::string> avatar;
  EpochMs created_at = 0;
  std::optional<EpochMs> last_seen;
};

struct NewUser {
  std::string id;
  std::string name;
  std::string email;  // lower-cased by the caller
  std::string password_hash;
  EpochMs created_at = 0;
};

struct Credentials {
  User user;
  std::string password_hash;
};

// What authenticating a token needs in one round trip.
struct TokenCheck {
  std::optional<User> user;  // nullopt: the user does not exist
  bool revoked = false;      // the token's jti is revoked
};

struct UserQuery {
  std::string exclude_id;  // the caller
  std::string prefix;      // lower-cased; matches a name or email prefix
  std::size_t limit = 50;
  std::size_t skip = 0;
};

enum class ConversationType { direct, group };

// A stored message. `delivered_at` / `read_at` (and a group message's
// counts) are derived from the members' cursors (see the conversation model
// below), not stored per message.
struct Message {
  std::string id;
  std::string conversation_id;
  std::int64_t seq = 0;  // 1, 2, 3... within the conversation
  std::string from;
  std::string to;  // a direct message's recipient; empty in a group
  std::string text;
  std::optional<std::string> temp_id;
  EpochMs created_at = 0;
  // Direct: when the recipient had it delivered / read. Group: when the
  // last of the other members it counts for did (all of them have).
  std::optional<EpochMs> delivered_at;
  std::optional<EpochMs> read_at;
  bool in_group = false;
  // Group messages: how many of the members it counts for (the other
  // members who were members when it was sent and still are) have had it
  // delivered, and have read it.
  std::int64_t delivered_count = 0;
  std::int64_t read_count = 0;
};

struct NewMessage {
  std::string id;  // used unless this is a retry of `temp_id`
  std::string from;
  // Exactly one of the two: the recipient of a direct message, or the
  // conversation (direct or group) it goes to.
  std::string to;
  std::optional<std::string> conversation_id;
  std::string text;
  std::optional<std::string> temp_id;
  EpochMs created_at = 0;
  std::string new_conversation_id;  // used if the pair has no conversation yet
};

// The members of a group, in join order (shared, never modified: a change
// of membership makes a new list).
using MemberList = std::shared_ptr<const std::vector<std::string>>;

struct Appended {
  Message message;
  bool duplicate = false;  // a retry: `message` is the original
  // A group message: the members when it was committed (the sender among
  // them), whom it goes to. Null for a direct message (it goes to `to`).
  MemberList members;
};

struct HistoryQuery {
  std::string caller_id;
  std::string target_id;  // a conversation id or the peer's user id
  std::size_t limit = 50;
  std::size_t skip = 0;
  std::optional<std::string> before_id;   // messages older than this one
  std::optional<std::int64_t> after_seq;  // messages with seq > N, oldest first
};

struct History {
  std::string conversation_id;    // empty when the pair has not talked yet
  std::vector<Message> messages;  // oldest first
};

struct ConversationSummary {
  std::string id;
  ConversationType type = ConversationType::direct;
  std::string name;      // a group's
  std::string owner_id;  // a group's
  // Direct: the pair, sorted. Group: the members in join order (the owner
  // first).
  std::vector<std::string> participants;
  User peer;  // a direct conversation's other member
  std::optional<Message> last_message;
  std::int64_t unread_count = 0;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;  // the last message's time, or the creation's
};

struct NewGroup {
  std::string id;
  std::string owner_id;
  std::string name;
  std::vector<std::string> member_ids;  // the others, distinct, in join order
  EpochMs created_at = 0;
};

// A group after a change of its name or members, for the caller's answer
// and for conversation:updated.
struct GroupUpdate {
  ConversationSummary conversation;  // `unread_count` is the caller's
  // Every member to tell, with their unread count: the members after the
  // change, then a removed member (count 0).
  std::vector<std::pair<std::string, std::int64_t>> audience;
  std::optional<std::string> removed;  // the member who was removed or left
  bool changed = true;                 // false: nothing to tell
};

struct MembersChange {
  std::string caller_id;
  std::string conversation_id;
  std::vector<std::string> user_ids;  // to add (in order); or the one to remove
  std::size_t max_members = 256;      // MAX_GROUP_MEMBERS
};

// Position in a user's pending deliveries (keyset paging).
struct PendingCursor {
  EpochMs created_at = 0;
  std::string conversation_id;
  std::int64_t seq = 0;
};

struct ReadRequest {
  std::string caller_id;
  std::string target_id;                // a conversation id or the peer's user id
  std::optional<std::string> up_to_id;  // default: the peer's last message
  EpochMs at = 0;
};

struct ReadOutcome {
  std::string conversation_id;
  // The other members (for a direct conversation, the peer): whom the read
  // receipt goes to.
  std::vector<std::string> others;
  std::optional<std::string> up_to_id;  // nullopt: the others have sent nothing
  std::int64_t up_to_seq = 0;
  EpochMs read_at = 0;
  std::int64_t count = 0;  // others' messages newly marked read
};

class Store {
 public:
  virtual ~Store() = default;

  // Fails with ErrorCode::conflict when the email is taken. Under concurrent
  // creates with one email, exactly one succeeds.
  virtual void create_user(NewUser user, Callback<User> done) = 0;
  virtual void user_by_id(std::string id, Callback<std::optional<User>> done) = 0;
  virtual void credentials_by_email(std::string email,
                                    Callback<std::optional<Credentials>> done) = 0;
  // Users ordered by name (binary), then id; `prefix` compares
  // case-insensitively (ASCII) against the start of the name or the email.
  virtual void list_users(UserQuery query, Callback<std::vector<User>> done) = 0;
  virtual void set_last_seen(std::string user_id, EpochMs at, Callback<void> done) = 0;

  // Token revocation (logout). Idempotent; kept until `expires_at`.
  virtual void revoke_token(std::string jti, EpochMs expires_at, Callback<void> done) = 0;
  // The user for a token's `sub` and whether its `jti` is revoked.
  virtual void check_token(std::string user_id, std::string jti, Callback<TokenCheck> done) = 0;
  // Deletes revocations that expired before `now`; returns how many.
  virtual void purge_revocations(EpochMs now, Callback<std::size_t> done) = 0;

  // --- conversations and messages
  //
  // Model: a direct conversation is unique per pair of users and created by
  // their first message. A group has a name, an owner and members in join
  // order; a member's access ends when they leave or are removed. Each
  // member has two cursors: delivered up to seq N and read up to seq M (of
  // the other members' messages), both starting at the conversation's last
  // seq when they join; every advance is also kept as a receipt mark (seq,
  // time), from which each message's delivered/deliveredAt/read/readAt (and
  // a group message's counts) follow. So receipts cost one write per cursor
  // advance, never one per message and member. A group message counts for
  // the other members who joined before it (join seq < its seq).
  //
  // `target_id` resolution (history, read): a conversation id of which the
  // caller is a member, else the id of an existing user other than the
  // caller. Anything else is "not found" (nullopt): a conversation the caller
  // is not in is indistinguishable from one that does not exist.

  // Appends a message, assigning the conversation's next seq at commit.
  // A retry (same `from` and `temp_id`) returns the original, duplicate set.
  // not_found when `to` does not exist, or when `conversation_id` is not a
  // conversation of the sender's.
  virtual void append_message(NewMessage message, Callback<Appended> done) = 0;
  // A page of history per HistoryQuery; validation_failed when `before_id`
  // is not a message of the conversation.
  virtual void read_history(HistoryQuery query, Callback<std::optional<History>> done) = 0;
  // The user's conversations, most recent activity first.
  virtual void list_conversations(std::string user_id,
                                  Callback<std::vector<ConversationSummary>> done) = 0;
  // One of them by its id, as list_conversations has it; nullopt when the
  // user is not in that conversation (or there is none).
  virtual void conversation(std::string user_id, std::string conversation_id,
                            Callback<std::optional<ConversationSummary>> done) = 0;
  // Moves the caller's read (and delivered) cursor up to `up_to_id`;
  // validation_failed when that is not a message of the conversation.
  virtual void mark_read(ReadRequest request, Callback<std::optional<ReadOutcome>> done) = 0;

  // Moves `user_id`'s delivered cursor in the conversation up to `up_to_seq`
  // (never down). Returns the cursor as it was before: the call moved it
  // past the seqs in (before, up_to_seq] (a receipt mark was written) when
  // before < up_to_seq. A user who is no member moves nothing: up_to_seq.
  virtual void mark_delivered(std::string conversation_id, std::string user_id,
                              std::int64_t up_to_seq, EpochMs at, Callback<std::int64_t> done) = 0;
  // Messages to `user_id` past their delivered cursor, ordered by
  // (created_at, conversation, seq) (so each conversation in seq order),
  // starting after `after` when given; at most `limit`.
  virtual void pending_deliveries(std::string user_id, std::optional<PendingCursor> after,
                                  std::size_t limit, Callback<std::vector<Message>> done) = 0;
  // The members of a conversation `user_id` is in (a group's in join
  // order); nullopt when `user_id` is not a member (or there is none).
  virtual void members(std::string user_id, std::string conversation_id,
                       Callback<std::optional<std::vector<std::string>>> done) = 0;
  // The users who share a conversation with `user_id` (at most `limit`, in
  // no particular order).
  virtual void contacts(std::string user_id, std::size_t limit,
                        Callback<std::vector<std::string>> done) = 0;
  // The direct conversation of a pair, if they have one.
  virtual void conversation_between(std::string a, std::string b,
                                    Callback<std::optional<std::string>> done) = 0;

  // --- groups. Each answers the group as the caller sees it and whom to
  // tell (GroupUpdate); nullopt when the caller is not a member.

  // not_found when a member does not exist.
  virtual void create_group(NewGroup group, Callback<GroupUpdate> done) = 0;
  // validation_failed for a direct conversation.
  virtual void rename_group(std::string caller_id, std::string conversation_id, std::string name,
                            Callback<std::optional<GroupUpdate>> done) = 0;
  // Adds the users who are not members yet, in order (none: `changed`
  // false). validation_failed for a direct conversation or when more than
  // `max_members` would be members; forbidden unless the caller owns the
  // group; not_found when a user does not exist.
  virtual void add_members(MembersChange change, Callback<std::optional<GroupUpdate>> done) = 0;
  // Removes `user_ids.front()`: the caller themselves (leaving; an owner
  // hands the group to the next member in join order) or, by the owner,
  // another member. validation_failed for a direct conversation; forbidden
  // when someone else than the owner removes another member; not_found
  // (an error, not nullopt) when that user is no member.
  virtual void remove_member(MembersChange change, Callback<std::optional<GroupUpdate>> done) = 0;

  // Answers when the database can serve a query (health checks).
  virtual void ping(Callback<void> done) = 0;

  // Finishes queued writes, then releases connections and threads.
  virtual void close() = 0;
};

}  // namespace parley::store
