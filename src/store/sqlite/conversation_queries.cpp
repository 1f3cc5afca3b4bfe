#include "store/sqlite/conversation_queries.hpp"

#include <algorithm>

#include "store/sqlite/detail.hpp"

namespace parley::store::sqlite {

using detail::db_error;
using detail::read_user;

Message read_message(const Statement& st, int first) {
  Message m;
  m.conversation_id = st.text(first);
  m.seq = st.integer(first + 1);
  m.id = st.text(first + 2);
  m.from = st.text(first + 3);
  m.text = st.text(first + 4);
  m.temp_id = st.optional_text(first + 5);
  m.created_at = st.integer(first + 6);
  return m;
}

core::Result<std::optional<ConversationRow>> conversation_row(Connection& db,
                                                              const std::string& id) {
  auto st = db.prepare(
      "SELECT type, name, owner_id, direct_key, created_at, updated_at, last_seq "
      "FROM conversations WHERE id = ?");
  if (!st) return core::fail(db_error(db, "prepare conversation row"));
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<ConversationRow>();
  if (rc != SQLITE_ROW) return core::fail(db_error(db, "conversation row"));
  ConversationRow row;
  row.id = id;
  row.type = st->text(0) == "group" ? ConversationType::group : ConversationType::direct;
  row.name = st->optional_text(1).value_or("");
  row.owner_id = st->optional_text(2).value_or("");
  row.direct_key = st->optional_text(3).value_or("");
  row.created_at = st->integer(4);
  row.updated_at = st->integer(5);
  row.last_seq = st->integer(6);
  return std::optional<ConversationRow>(std::move(row));
}

core::Result<std::vector<MemberCursors>> member_cursors(Connection& db,
                                                        const std::string& conversation_id) {
  auto st = db.prepare(
      "SELECT user_id, joined_seq, delivered_seq, read_seq FROM conversation_members "
      "WHERE conversation_id = ? ORDER BY position, user_id");
  if (!st) return core::fail(db_error(db, "prepare cursors"));
  st->bind(1, conversation_id);
  std::vector<MemberCursors> out;
  int rc = 0;
  while ((rc = st->step()) == SQLITE_ROW) {
    out.push_back(MemberCursors{st->text(0), st->integer(1), st->integer(2), st->integer(3)});
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(db, "cursors"));
  return out;
}

core::Result<void> fill_receipts(Connection& db, const std::string& conversation_id,
                                 std::vector<Message>& messages) {
  if (messages.empty()) return {};
  auto row = conversation_row(db, conversation_id);
  if (!row) return core::fail(std::move(row.error()));
  if (!*row) return {};
  return fill_receipts(db, **row, messages);
}

core::Result<void> fill_receipts(Connection& db, const ConversationRow& row,
                                 std::vector<Message>& messages) {
  if (messages.empty()) return {};
  const std::string& conversation_id = row.id;
  auto cursors = member_cursors(db, conversation_id);
  if (!cursors) return core::fail(std::move(cursors.error()));
  const MarkReader marks = [&db, &conversation_id](
                               const std::string& user, ReceiptKind kind, std::int64_t lo,
                               std::int64_t hi) -> core::Result<std::vector<ReceiptMark>> {
    // Marks ascend in both seq and time: read from the first that covers
    // `lo` until one covers `hi`.
    auto st = db.prepare(
        "SELECT up_to_seq, at FROM receipts WHERE conversation_id = ? AND user_id = ? "
        "AND kind = ? AND up_to_seq >= ? ORDER BY up_to_seq");
    if (!st) return core::fail(db_error(db, "prepare receipts"));
    st->bind(1, conversation_id).bind(2, user).bind(3, static_cast<std::int64_t>(kind)).bind(4, lo);
    std::vector<ReceiptMark> out;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      out.push_back(ReceiptMark{st->integer(0), st->integer(1)});
      if (out.back().up_to_seq >= hi) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return core::fail(db_error(db, "receipts"));
    return out;
  };
  return derive_receipts(row.type, *cursors, messages, marks);
}

core::Result<std::int64_t> unread_count(Connection& db, const std::string& conversation_id,
                                        const std::string& user_id, std::int64_t read_seq) {
  auto st = db.prepare(
      "SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? AND sender_id <> ?");
  if (!st) return core::fail(db_error(db, "prepare unread"));
  st->bind(1, conversation_id).bind(2, read_seq).bind(3, user_id);
  if (st->step() != SQLITE_ROW) return core::fail(db_error(db, "unread"));
  return st->integer(0);
}

core::Result<ConversationSummary> summarize(Connection& db, const ConversationRow& row,
                                            const std::string& viewer) {
  ConversationSummary c;
  c.id = row.id;
  c.type = row.type;
  c.name = row.name;
  c.owner_id = row.owner_id;
  c.created_at = row.created_at;
  c.updated_at = row.updated_at;
  if (row.type == ConversationType::group) {
    auto st = db.prepare(
        "SELECT user_id FROM conversation_members WHERE conversation_id = ? "
        "ORDER BY position, user_id");
    if (!st) return core::fail(db_error(db, "prepare participants"));
    st->bind(1, row.id);
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) c.participants.push_back(st->text(0));
    if (rc != SQLITE_DONE) return core::fail(db_error(db, "participants"));
  } else {
    static const std::string peer_sql = fmt::format(
        "SELECT {} FROM conversation_members p JOIN users u ON u.id = p.user_id "
        "WHERE p.conversation_id = ? AND p.user_id <> ?",
        "u.id, u.name, u.email, u.avatar, u.created_at, u.last_seen");
    auto st = db.prepare(peer_sql.c_str());
    if (!st) return core::fail(db_error(db, "prepare peer"));
    st->bind(1, row.id).bind(2, viewer);
    const int rc = st->step();
    if (rc == SQLITE_ROW) {
      c.peer = read_user(*st);
    } else if (rc != SQLITE_DONE) {
      return core::fail(db_error(db, "peer"));
    }
    c.participants = {viewer, c.peer.id};
    std::sort(c.participants.begin(), c.participants.end());
  }
  static const std::string last_sql =
      fmt::format("SELECT {} FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1",
                  kMessageColumns);
  {
    auto st = db.prepare(last_sql.c_str());
    if (!st) return core::fail(db_error(db, "prepare last message"));
    st->bind(1, row.id);
    const int rc = st->step();
    if (rc == SQLITE_ROW) {
      c.last_message = read_message(*st);
    } else if (rc != SQLITE_DONE) {
      return core::fail(db_error(db, "last message"));
    }
  }
  if (c.last_message) {
    std::vector<Message> one{std::move(*c.last_message)};
    if (auto r = fill_receipts(db, row, one); !r) return core::fail(std::move(r.error()));
    c.last_message = std::move(one.front());
  }
  return c;
}

core::Result<std::vector<ConversationSummary>> conversations_of(
    Connection& db, const std::string& me, const std::optional<std::string>& only) {
  static constexpr const char* all_sql =
      "SELECT c.id, mine.read_seq FROM conversation_members mine "
      "JOIN conversations c ON c.id = mine.conversation_id WHERE mine.user_id = ?1 "
      "ORDER BY c.updated_at DESC, c.id DESC";
  static constexpr const char* one_sql =
      "SELECT c.id, mine.read_seq FROM conversation_members mine "
      "JOIN conversations c ON c.id = mine.conversation_id WHERE mine.user_id = ?1 "
      "AND mine.conversation_id = ?2";
  std::vector<std::pair<std::string, std::int64_t>> mine;
  {
    auto st = db.prepare(only ? one_sql : all_sql);
    if (!st) return core::fail(db_error(db, "prepare conversations"));
    st->bind(1, me);
    if (only) st->bind(2, *only);
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) mine.emplace_back(st->text(0), st->integer(1));
    if (rc != SQLITE_DONE) return core::fail(db_error(db, "conversations"));
  }
  std::vector<ConversationSummary> out;
  out.reserve(mine.size());
  for (const auto& [id, read_seq] : mine) {
    auto row = conversation_row(db, id);
    if (!row) return core::fail(std::move(row.error()));
    if (!*row) continue;
    auto c = summarize(db, **row, me);
    if (!c) return core::fail(std::move(c.error()));
    auto unread = unread_count(db, id, me, read_seq);
    if (!unread) return core::fail(std::move(unread.error()));
    c->unread_count = *unread;
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace parley::store::sqlite
