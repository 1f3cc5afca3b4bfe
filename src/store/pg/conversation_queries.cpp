#include "store/pg/conversation_queries.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "store/group_changes.hpp"
#include "store/pg/detail.hpp"

namespace parley::store::pg {

using detail::read_user;

Message read_message(const Rows& rows, int row, int first) {
  Message m;
  m.conversation_id = rows.text(row, first);
  m.seq = rows.integer(row, first + 1);
  m.id = rows.text(row, first + 2);
  m.from = rows.text(row, first + 3);
  m.text = rows.text(row, first + 4);
  m.temp_id = rows.optional_text(row, first + 5);
  m.created_at = rows.integer(row, first + 6);
  return m;
}

std::string direct_key(const std::string& a, const std::string& b) {
  return a < b ? a + ":" + b : b + ":" + a;
}

core::Error validation(std::string field, std::string problem) {
  return core::Error::validation(std::move(field), std::move(problem));
}

namespace {

ConversationType conversation_type(const std::string& stored) {
  return stored == "group" ? ConversationType::group : ConversationType::direct;
}

}  // namespace

core::Result<std::optional<Membership>> membership(Connection& db,
                                                   const std::string& conversation_id) {
  auto rows = db.query(
      "SELECT c.type, m.user_id, m.joined_seq, m.delivered_seq, m.read_seq "
      "FROM conversations c LEFT JOIN conversation_members m ON m.conversation_id = c.id "
      "WHERE c.id = $1 ORDER BY m.position, m.user_id",
      Params().add(conversation_id));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->size() == 0) return std::optional<Membership>();
  Membership out;
  out.type = conversation_type(rows->text(0, 0));
  for (int i = 0; i < rows->size(); ++i) {
    if (rows->is_null(i, 1)) continue;  // a group whose last member left
    out.members.push_back(MemberCursors{rows->text(i, 1), rows->integer(i, 2), rows->integer(i, 3),
                                        rows->integer(i, 4)});
  }
  return std::optional<Membership>(std::move(out));
}

core::Result<std::optional<LockedConversation>> lock_conversation(Connection& db,
                                                                  const std::string& id) {
  auto rows = db.query(
      "SELECT type, direct_key, owner_id, last_seq FROM conversations WHERE id = $1 FOR UPDATE",
      Params().add(id));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->size() == 0) return std::optional<LockedConversation>();
  LockedConversation c;
  c.type = conversation_type(rows->text(0, 0));
  c.direct_key = rows->optional_text(0, 1).value_or("");
  c.owner_id = rows->optional_text(0, 2).value_or("");
  c.last_seq = rows->integer(0, 3);
  return std::optional<LockedConversation>(std::move(c));
}

namespace {

core::Result<void> derive(Connection& db, const std::string& conversation_id,
                          const Membership& membership, std::vector<Message>& messages) {
  const MarkReader marks = [&db, &conversation_id](
                               const std::string& user, ReceiptKind kind, std::int64_t lo,
                               std::int64_t hi) -> core::Result<std::vector<ReceiptMark>> {
    // Marks ascend in both seq and time: those from the first that covers
    // `lo` to the first that covers `hi`.
    auto rows = db.query(
        "SELECT up_to_seq, at FROM receipts WHERE conversation_id = $1 AND user_id = $2 "
        "AND kind = $3 AND up_to_seq >= $4 AND up_to_seq <= coalesce((SELECT min(up_to_seq) "
        "FROM receipts WHERE conversation_id = $1 AND user_id = $2 AND kind = $3 "
        "AND up_to_seq >= $5), $5) ORDER BY up_to_seq",
        Params()
            .add(conversation_id)
            .add(user)
            .add(static_cast<std::int64_t>(kind))
            .add(lo)
            .add(hi));
    if (!rows) return core::fail(std::move(rows.error()));
    std::vector<ReceiptMark> out;
    out.reserve(static_cast<std::size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      out.push_back(ReceiptMark{rows->integer(i, 0), rows->integer(i, 1)});
    }
    return out;
  };
  return derive_receipts(membership.type, membership.members, messages, marks);
}

}  // namespace

core::Result<void> fill_receipts(Connection& db, const std::string& conversation_id,
                                 std::vector<Message>& messages) {
  if (messages.empty()) return {};
  auto found = membership(db, conversation_id);
  if (!found) return core::fail(std::move(found.error()));
  if (!*found) return {};
  return derive(db, conversation_id, **found, messages);
}

core::Result<std::optional<Message>> message_by_temp_id(Connection& db, const std::string& from,
                                                        const std::string& temp_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM messages WHERE sender_id = $1 AND temp_id = $2", kMessageColumns);
  auto rows = db.query(sql, Params().add(from).add(temp_id));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->size() == 0) return std::optional<Message>();
  std::vector<Message> one{read_message(*rows, 0)};
  if (auto r = fill_receipts(db, one.front().conversation_id, one); !r) {
    return core::fail(std::move(r.error()));
  }
  return std::optional<Message>(std::move(one.front()));
}

core::Result<Resolved> resolve(Connection& db, const std::string& caller,
                               const std::string& target) {
  Resolved r;
  auto found = membership(db, target);
  if (!found) return core::fail(std::move(found.error()));
  if (*found && is_member((*found)->members, caller)) {
    r.found = true;
    r.conversation_id = target;
    for (auto& m : (*found)->members) {
      if (m.user_id != caller) r.others.push_back(std::move(m.user_id));
    }
    return r;
  }
  if (target == caller) return r;
  auto rows = db.query(
      "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1), "
      "(SELECT id FROM conversations WHERE direct_key = $2)",
      Params().add(target).add(direct_key(caller, target)));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->text(0, 0) != "t") return r;
  r.found = true;
  r.others = {target};
  if (!rows->is_null(0, 1)) r.conversation_id = rows->text(0, 1);
  return r;
}

namespace {

// Which conversations summaries() reads, as `viewer` ($1) sees them.
enum class Scope {
  mine,         // all of the viewer's
  one_of_mine,  // $2, if the viewer is a member
  one,          // $2, member or not
};

// Each conversation with its peer (direct), last message and the viewer's
// unread count in one statement; then, per conversation, its members (a
// group's participants, and the last message's receipts).
core::Result<std::vector<ConversationSummary>> summaries(Connection& db, const std::string& viewer,
                                                         Scope scope,
                                                         const std::string& conversation_id) {
  static const std::string base = fmt::format(
      "SELECT c.id, c.type, c.name, c.owner_id, c.created_at, c.updated_at, "
      "peer.id, peer.name, peer.email, peer.avatar, peer.created_at, peer.last_seen, "
      "(SELECT count(*) FROM messages x WHERE x.conversation_id = c.id "
      "AND x.seq > mine.read_seq AND x.sender_id <> $1), last.* "
      "FROM conversations c "
      "LEFT JOIN conversation_members mine ON mine.conversation_id = c.id AND mine.user_id = $1 "
      "LEFT JOIN LATERAL (SELECT u.id, u.name, u.email, u.avatar, u.created_at, u.last_seen "
      "FROM conversation_members p JOIN users u ON u.id = p.user_id "
      "WHERE p.conversation_id = c.id AND p.user_id <> $1 AND c.type = 'direct' LIMIT 1) peer "
      "ON true "
      "LEFT JOIN LATERAL (SELECT {} FROM messages m WHERE m.conversation_id = c.id "
      "ORDER BY m.seq DESC LIMIT 1) last ON true ",
      kMessageColumns);
  static const std::string mine_sql =
      base + "WHERE mine.user_id = $1 ORDER BY c.updated_at DESC, c.id DESC";
  static const std::string one_of_mine_sql = base + "WHERE mine.user_id = $1 AND c.id = $2";
  static const std::string one_sql = base + "WHERE c.id = $2";
  Params params;
  params.add(viewer);
  if (scope != Scope::mine) params.add(conversation_id);
  auto rows = db.query(scope == Scope::mine          ? mine_sql
                       : scope == Scope::one_of_mine ? one_of_mine_sql
                                                     : one_sql,
                       params);
  if (!rows) return core::fail(std::move(rows.error()));
  constexpr int kPeer = 6, kUnread = 12, kLast = 13;
  std::vector<ConversationSummary> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    ConversationSummary c;
    c.id = rows->text(i, 0);
    c.type = conversation_type(rows->text(i, 1));
    c.name = rows->optional_text(i, 2).value_or("");
    c.owner_id = rows->optional_text(i, 3).value_or("");
    c.created_at = rows->integer(i, 4);
    c.updated_at = rows->integer(i, 5);
    if (!rows->is_null(i, kPeer)) c.peer = read_user(*rows, i, kPeer);
    c.unread_count = rows->integer(i, kUnread);
    if (!rows->is_null(i, kLast)) c.last_message = read_message(*rows, i, kLast);
    if (c.type == ConversationType::direct) {
      c.participants = {viewer, c.peer.id};
      std::sort(c.participants.begin(), c.participants.end());
    }
    if (c.type == ConversationType::group || c.last_message) {
      auto members = membership(db, c.id);
      if (!members) return core::fail(std::move(members.error()));
      if (!*members) continue;  // cannot happen: rows are never deleted
      if (c.type == ConversationType::group) {
        for (const auto& m : (*members)->members) c.participants.push_back(m.user_id);
      }
      if (c.last_message) {
        std::vector<Message> one{std::move(*c.last_message)};
        if (auto r = derive(db, c.id, **members, one); !r) return core::fail(std::move(r.error()));
        c.last_message = std::move(one.front());
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

core::Result<std::vector<ConversationSummary>> conversations_of(
    Connection& db, const std::string& me, const std::optional<std::string>& only) {
  return only ? summaries(db, me, Scope::one_of_mine, *only)
              : summaries(db, me, Scope::mine, std::string());
}

core::Result<std::optional<ConversationSummary>> conversation_seen_by(Connection& db,
                                                                      const std::string& id,
                                                                      const std::string& viewer) {
  auto found = summaries(db, viewer, Scope::one, id);
  if (!found) return core::fail(std::move(found.error()));
  if (found->empty()) return std::optional<ConversationSummary>();
  ConversationSummary c = std::move(found->front());
  c.unread_count = 0;
  return std::optional<ConversationSummary>(std::move(c));
}

}  // namespace parley::store::pg
