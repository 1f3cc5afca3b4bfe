// SqliteStore: conversations, messages and receipt cursors (see the model in
// store/store.hpp and the schema in migrations.cpp).
#include <algorithm>
#include <limits>

#include "core/clock.hpp"
#include "store/sqlite/detail.hpp"

namespace parley::store::sqlite {

using detail::closed_error;
using detail::db_error;
using detail::read_user;

namespace {

constexpr int kDelivered = 0;
constexpr int kRead = 1;
constexpr std::size_t kMaxCachedConversations = 100000;

std::string direct_key(const std::string& a, const std::string& b) {
  return a < b ? a + ":" + b : b + ":" + a;
}

core::Error validation(std::string field, std::string problem) {
  return core::Error::validation(std::move(field), std::move(problem));
}

struct Resolved {
  bool found = false;
  std::string conversation_id;  // empty: the pair has not talked yet
  std::string peer_id;
};

// `target` as a conversation of the caller, else as a peer user.
core::Result<Resolved> resolve(Connection& db, const std::string& caller,
                               const std::string& target) {
  Resolved r;
  {
    auto st = db.prepare("SELECT user_id FROM conversation_members WHERE conversation_id = ?");
    if (!st) return core::fail(db_error(db, "prepare members"));
    st->bind(1, target);
    bool member = false;
    std::string other;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      std::string u = st->text(0);
      if (u == caller)
        member = true;
      else
        other = std::move(u);
    }
    if (rc != SQLITE_DONE) return core::fail(db_error(db, "members"));
    if (member) {
      r.found = true;
      r.conversation_id = target;
      r.peer_id = std::move(other);
      return r;
    }
  }
  if (target == caller) return r;
  auto st = db.prepare(
      "SELECT (SELECT 1 FROM users WHERE id = ?1), "
      "(SELECT id FROM conversations WHERE direct_key = ?2)");
  if (!st) return core::fail(db_error(db, "prepare resolve"));
  st->bind(1, target).bind(2, direct_key(caller, target));
  if (st->step() != SQLITE_ROW) return core::fail(db_error(db, "resolve"));
  if (st->is_null(0)) return r;
  r.found = true;
  r.peer_id = target;
  if (!st->is_null(1)) r.conversation_id = st->text(1);
  return r;
}

// Message columns: conversation_id, seq, id, sender_id, text, temp_id,
// created_at.
constexpr const char* kMessageColumns =
    "conversation_id, seq, id, sender_id, text, temp_id, created_at";

Message read_message(const Statement& st) {
  Message m;
  m.conversation_id = st.text(0);
  m.seq = st.integer(1);
  m.id = st.text(2);
  m.from = st.text(3);
  m.text = st.text(4);
  m.temp_id = st.optional_text(5);
  m.created_at = st.integer(6);
  return m;
}

struct Member {
  std::string user_id;
  std::int64_t delivered_seq = 0;
  std::int64_t read_seq = 0;
};

core::Result<std::vector<Member>> members(Connection& db, const std::string& conversation_id) {
  auto st = db.prepare(
      "SELECT user_id, delivered_seq, read_seq FROM conversation_members "
      "WHERE conversation_id = ?");
  if (!st) return core::fail(db_error(db, "prepare cursors"));
  st->bind(1, conversation_id);
  std::vector<Member> out;
  int rc = 0;
  while ((rc = st->step()) == SQLITE_ROW) {
    out.push_back(Member{st->text(0), st->integer(1), st->integer(2)});
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(db, "cursors"));
  return out;
}

// Sets `to`, `delivered_at` and `read_at` of messages of one direct
// conversation from its members' cursors and receipt marks.
core::Result<void> fill_receipts(Connection& db, const std::string& conversation_id,
                                 std::vector<Message>& msgs) {
  if (msgs.empty()) return {};
  auto cursors = members(db, conversation_id);
  if (!cursors) return core::fail(std::move(cursors.error()));
  for (const Member& recipient : *cursors) {
    std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = 0;
    for (auto& m : msgs) {
      if (m.from == recipient.user_id) continue;
      m.to = recipient.user_id;
      lo = std::min(lo, m.seq);
      hi = std::max(hi, m.seq);
    }
    for (int kind : {kDelivered, kRead}) {
      const std::int64_t cursor = kind == kDelivered ? recipient.delivered_seq : recipient.read_seq;
      if (hi == 0 || cursor < lo) continue;
      // Marks ascend in both seq and time: read from the first that covers
      // `lo` until one covers `hi`.
      auto st = db.prepare(
          "SELECT up_to_seq, at FROM receipts WHERE conversation_id = ? AND user_id = ? "
          "AND kind = ? AND up_to_seq >= ? ORDER BY up_to_seq");
      if (!st) return core::fail(db_error(db, "prepare receipts"));
      st->bind(1, conversation_id).bind(2, recipient.user_id).bind(3, kind).bind(4, lo);
      std::vector<std::pair<std::int64_t, EpochMs>> marks;
      int rc = 0;
      while ((rc = st->step()) == SQLITE_ROW) {
        marks.emplace_back(st->integer(0), st->integer(1));
        if (marks.back().first >= hi) break;
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return core::fail(db_error(db, "receipts"));
      for (auto& m : msgs) {
        if (m.from == recipient.user_id || m.seq > cursor) continue;
        auto it = std::lower_bound(marks.begin(), marks.end(), m.seq,
                                   [](const auto& mark, std::int64_t s) { return mark.first < s; });
        if (it == marks.end()) continue;
        (kind == kDelivered ? m.delivered_at : m.read_at) = it->second;
      }
    }
  }
  return {};
}

}  // namespace

core::Result<bool> SqliteStore::user_exists(Connection& db, const std::string& id) {
  if (cache_.known_users.count(id)) return true;
  auto st = db.prepare("SELECT 1 FROM users WHERE id = ?");
  if (!st) return core::fail(db_error(db, "prepare user exists"));
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return core::fail(db_error(db, "user exists"));
  if (cache_.known_users.size() > kMaxCachedConversations) cache_.known_users.clear();
  cache_.known_users.insert(id);
  return true;
}

core::Result<SqliteStore::WriterCache::Conversation*> SqliteStore::direct_conversation(
    Connection& db, const std::string& a, const std::string& b, const std::string* create_id,
    EpochMs now) {
  std::string key = direct_key(a, b);
  if (auto it = cache_.direct.find(key); it != cache_.direct.end()) return &it->second;
  WriterCache::Conversation conv;
  {
    auto st = db.prepare("SELECT id, last_seq, updated_at FROM conversations WHERE direct_key = ?");
    if (!st) return core::fail(db_error(db, "prepare find conversation"));
    st->bind(1, key);
    const int rc = st->step();
    if (rc == SQLITE_ROW) {
      conv.id = st->text(0);
      conv.last_seq = st->integer(1);
      conv.updated_at = st->integer(2);
    } else if (rc != SQLITE_DONE) {
      return core::fail(db_error(db, "find conversation"));
    } else if (!create_id) {
      return nullptr;
    }
  }
  if (conv.id.empty()) {
    auto st = db.prepare(
        "INSERT INTO conversations (id, type, direct_key, created_at, updated_at, last_seq) "
        "VALUES (?, 'direct', ?, ?, ?, 0)");
    if (!st) return core::fail(db_error(db, "prepare create conversation"));
    st->bind(1, *create_id).bind(2, key).bind(3, now).bind(4, now);
    if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "create conversation"));
    auto mst = db.prepare(
        "INSERT INTO conversation_members (conversation_id, user_id) VALUES (?1, ?2), (?1, ?3)");
    if (!mst) return core::fail(db_error(db, "prepare members"));
    mst->bind(1, *create_id).bind(2, a).bind(3, b);
    if (mst->step() != SQLITE_DONE) return core::fail(db_error(db, "insert members"));
    conv.id = *create_id;
    conv.updated_at = now;
  }
  return &cache_.direct.emplace(std::move(key), std::move(conv)).first->second;
}

core::Result<void> SqliteStore::flush_writer_cache() {
  for (auto* conv : cache_.dirty) {
    auto st =
        writer_conn_.prepare("UPDATE conversations SET last_seq = ?, updated_at = ? WHERE id = ?");
    if (!st) return core::fail(db_error(writer_conn_, "prepare conversation update"));
    st->bind(1, conv->last_seq).bind(2, conv->updated_at).bind(3, conv->id);
    if (st->step() != SQLITE_DONE) return core::fail(db_error(writer_conn_, "conversation update"));
    conv->dirty = false;
  }
  cache_.dirty.clear();
  if (cache_.direct.size() > kMaxCachedConversations) cache_.direct.clear();
  return {};
}

void SqliteStore::append_message(NewMessage message, Callback<Appended> done) {
  struct State {
    NewMessage in;
    Appended out;
    bool not_found = false;
  };
  write(
      State{std::move(message), {}, false},
      [this](Connection& db, State& s) -> core::Result<void> {
        s.out = Appended{};
        s.not_found = false;
        if (s.in.temp_id) {
          auto st = db.prepare(
              "SELECT conversation_id, seq, id, sender_id, text, temp_id, created_at "
              "FROM messages WHERE sender_id = ? AND temp_id = ?");
          if (!st) return core::fail(db_error(db, "prepare temp id"));
          st->bind(1, s.in.from).bind(2, *s.in.temp_id);
          const int rc = st->step();
          if (rc == SQLITE_ROW) {
            std::vector<Message> one{read_message(*st)};
            st.reset();
            if (auto r = fill_receipts(db, one.front().conversation_id, one); !r) return r;
            s.out.message = std::move(one.front());
            s.out.duplicate = true;
            return {};
          }
          if (rc != SQLITE_DONE) return core::fail(db_error(db, "temp id"));
        }
        auto exists = user_exists(db, s.in.to);
        if (!exists) return core::fail(std::move(exists.error()));
        if (!*exists) {
          s.not_found = true;
          return {};
        }
        const EpochMs now = core::now_ms();
        auto conv = direct_conversation(db, s.in.from, s.in.to, &s.in.new_conversation_id, now);
        if (!conv) return core::fail(std::move(conv.error()));
        WriterCache::Conversation& c = **conv;
        Message& m = s.out.message;
        m.id = s.in.id;
        m.conversation_id = c.id;
        m.seq = c.last_seq + 1;
        m.from = s.in.from;
        m.to = s.in.to;
        m.text = s.in.text;
        m.temp_id = s.in.temp_id;
        m.created_at = std::max(now, c.updated_at);  // never before the previous message
        auto st = db.prepare(
            "INSERT INTO messages (conversation_id, seq, id, sender_id, text, temp_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)");
        if (!st) return core::fail(db_error(db, "prepare insert message"));
        st->bind(1, m.conversation_id)
            .bind(2, m.seq)
            .bind(3, m.id)
            .bind(4, m.from)
            .bind(5, m.text)
            .bind_optional(6, m.temp_id)
            .bind(7, m.created_at);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "insert message"));
        c.last_seq = m.seq;
        c.updated_at = m.created_at;
        if (!c.dirty) {
          c.dirty = true;
          cache_.dirty.push_back(&c);
        }
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        if (s.not_found) return done(core::fail(core::ErrorCode::not_found, "Recipient not found"));
        done(std::move(s.out));
      });
}

void SqliteStore::read_history(HistoryQuery query, Callback<std::optional<History>> done) {
  read([q = std::move(query), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    auto target = resolve(db, q.caller_id, q.target_id);
    if (!target) return done(core::fail(std::move(target.error())));
    if (!target->found) return done(std::optional<History>());
    History h;
    h.conversation_id = target->conversation_id;
    if (h.conversation_id.empty()) return done(std::optional<History>(std::move(h)));

    std::int64_t before_seq = std::numeric_limits<std::int64_t>::max();
    if (q.before_id) {
      auto st = db.prepare("SELECT seq FROM messages WHERE id = ? AND conversation_id = ?");
      if (!st) return done(core::fail(db_error(db, "prepare before")));
      st->bind(1, *q.before_id).bind(2, h.conversation_id);
      const int rc = st->step();
      if (rc == SQLITE_DONE) {
        return done(core::fail(validation("before", "is not a message of this conversation")));
      }
      if (rc != SQLITE_ROW) return done(core::fail(db_error(db, "before")));
      before_seq = st->integer(0);
    }
    static const std::string newest_sql = fmt::format(
        "SELECT {} FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC "
        "LIMIT ? OFFSET ?",
        kMessageColumns);
    static const std::string after_sql = fmt::format(
        "SELECT {} FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        kMessageColumns);
    auto st = db.prepare(q.after_seq ? after_sql.c_str() : newest_sql.c_str());
    if (!st) return done(core::fail(db_error(db, "prepare history")));
    st->bind(1, h.conversation_id);
    if (q.after_seq) {
      st->bind(2, *q.after_seq).bind(3, static_cast<std::int64_t>(q.limit));
    } else {
      st->bind(2, before_seq)
          .bind(3, static_cast<std::int64_t>(q.limit))
          .bind(4, static_cast<std::int64_t>(q.skip));
    }
    int rc = 0;
    h.messages.reserve(q.limit);
    while ((rc = st->step()) == SQLITE_ROW) h.messages.push_back(read_message(*st));
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "history")));
    st.reset();
    if (!q.after_seq) std::reverse(h.messages.begin(), h.messages.end());
    if (auto r = fill_receipts(db, h.conversation_id, h.messages); !r) {
      return done(core::fail(std::move(r.error())));
    }
    done(std::optional<History>(std::move(h)));
  });
}

namespace {

// The caller's conversations (all, or the one `only`), most recent first,
// with each one's last message and unread count.
core::Result<std::vector<ConversationSummary>> conversations_of(
    Connection& db, const std::string& me, const std::optional<std::string>& only) {
  static const std::string base = fmt::format(
      "SELECT c.id, c.updated_at, mine.read_seq, u.{} FROM conversation_members mine "
      "JOIN conversations c ON c.id = mine.conversation_id "
      "JOIN conversation_members peer ON peer.conversation_id = mine.conversation_id "
      "AND peer.user_id <> mine.user_id "
      "JOIN users u ON u.id = peer.user_id "
      "WHERE mine.user_id = ?1",
      "id, u.name, u.email, u.avatar, u.created_at, u.last_seen");
  static const std::string all_sql = base + " ORDER BY c.updated_at DESC, c.id DESC";
  static const std::string one_sql = base + " AND mine.conversation_id = ?2";
  std::vector<ConversationSummary> out;
  std::vector<std::int64_t> read_seqs;
  {
    auto st = db.prepare(only ? one_sql.c_str() : all_sql.c_str());
    if (!st) return core::fail(db_error(db, "prepare conversations"));
    st->bind(1, me);
    if (only) st->bind(2, *only);
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      ConversationSummary c;
      c.id = st->text(0);
      c.updated_at = st->integer(1);
      read_seqs.push_back(st->integer(2));
      c.peer = read_user(*st, 3);
      c.participants = {me, c.peer.id};
      std::sort(c.participants.begin(), c.participants.end());
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return core::fail(db_error(db, "conversations"));
  }
  static const std::string last_sql =
      fmt::format("SELECT {} FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1",
                  kMessageColumns);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& c = out[i];
    {
      auto st = db.prepare(last_sql.c_str());
      if (!st) return core::fail(db_error(db, "prepare last message"));
      st->bind(1, c.id);
      if (st->step() == SQLITE_ROW) c.last_message = read_message(*st);
    }
    if (c.last_message) {
      std::vector<Message> one{std::move(*c.last_message)};
      if (auto r = fill_receipts(db, c.id, one); !r) return core::fail(std::move(r.error()));
      c.last_message = std::move(one.front());
    }
    auto st = db.prepare(
        "SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? AND sender_id <> ?");
    if (!st) return core::fail(db_error(db, "prepare unread"));
    st->bind(1, c.id).bind(2, read_seqs[i]).bind(3, me);
    if (st->step() != SQLITE_ROW) return core::fail(db_error(db, "unread"));
    c.unread_count = st->integer(0);
  }
  return out;
}

}  // namespace

void SqliteStore::list_conversations(std::string user_id,
                                     Callback<std::vector<ConversationSummary>> done) {
  read([me = std::move(user_id), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    done(conversations_of(*conn, me, std::nullopt));
  });
}

void SqliteStore::conversation(std::string user_id, std::string conversation_id,
                               Callback<std::optional<ConversationSummary>> done) {
  read([me = std::move(user_id), id = std::move(conversation_id),
        done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    auto r = conversations_of(*conn, me, id);
    if (!r) return done(core::fail(std::move(r.error())));
    if (r->empty()) return done(std::optional<ConversationSummary>());
    done(std::optional<ConversationSummary>(std::move(r->front())));
  });
}

void SqliteStore::mark_read(ReadRequest request, Callback<std::optional<ReadOutcome>> done) {
  struct State {
    ReadRequest in;
    std::optional<ReadOutcome> out;
    std::optional<core::Error> invalid;
  };
  write(
      State{std::move(request), {}, {}},
      [](Connection& db, State& s) -> core::Result<void> {
        s.out.reset();
        s.invalid.reset();
        auto target = resolve(db, s.in.caller_id, s.in.target_id);
        if (!target) return core::fail(std::move(target.error()));
        if (!target->found) return {};
        ReadOutcome o;
        o.conversation_id = target->conversation_id;
        o.peer_id = target->peer_id;
        o.read_at = s.in.at;
        if (o.conversation_id.empty()) {
          s.out = std::move(o);
          return {};
        }
        std::int64_t read_seq = 0, delivered_seq = 0;
        {
          auto st = db.prepare(
              "SELECT delivered_seq, read_seq FROM conversation_members "
              "WHERE conversation_id = ? AND user_id = ?");
          if (!st) return core::fail(db_error(db, "prepare cursor"));
          st->bind(1, o.conversation_id).bind(2, s.in.caller_id);
          if (st->step() != SQLITE_ROW) return core::fail(db_error(db, "cursor"));
          delivered_seq = st->integer(0);
          read_seq = st->integer(1);
        }
        if (s.in.up_to_id) {
          auto st = db.prepare("SELECT seq FROM messages WHERE id = ? AND conversation_id = ?");
          if (!st) return core::fail(db_error(db, "prepare upTo"));
          st->bind(1, *s.in.up_to_id).bind(2, o.conversation_id);
          const int rc = st->step();
          if (rc == SQLITE_DONE) {
            s.invalid = validation("upTo", "is not a message of this conversation");
            return {};
          }
          if (rc != SQLITE_ROW) return core::fail(db_error(db, "upTo"));
          o.up_to_seq = st->integer(0);
          o.up_to_id = s.in.up_to_id;
        } else {
          auto st = db.prepare(
              "SELECT seq, id FROM messages WHERE conversation_id = ? AND sender_id = ? "
              "ORDER BY seq DESC LIMIT 1");
          if (!st) return core::fail(db_error(db, "prepare last from peer"));
          st->bind(1, o.conversation_id).bind(2, o.peer_id);
          const int rc = st->step();
          if (rc == SQLITE_ROW) {
            o.up_to_seq = st->integer(0);
            o.up_to_id = st->text(1);
          } else if (rc != SQLITE_DONE) {
            return core::fail(db_error(db, "last from peer"));
          }
        }
        if (o.up_to_seq > read_seq) {
          auto cst = db.prepare(
              "SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? AND seq <= ? "
              "AND sender_id <> ?");
          if (!cst) return core::fail(db_error(db, "prepare read count"));
          cst->bind(1, o.conversation_id)
              .bind(2, read_seq)
              .bind(3, o.up_to_seq)
              .bind(4, s.in.caller_id);
          if (cst->step() != SQLITE_ROW) return core::fail(db_error(db, "read count"));
          o.count = cst->integer(0);
          cst.reset();
          auto ust = db.prepare(
              "UPDATE conversation_members SET read_seq = ?1, "
              "delivered_seq = max(delivered_seq, ?1) WHERE conversation_id = ?2 AND user_id = ?3");
          if (!ust) return core::fail(db_error(db, "prepare read cursor"));
          ust->bind(1, o.up_to_seq).bind(2, o.conversation_id).bind(3, s.in.caller_id);
          if (ust->step() != SQLITE_DONE) return core::fail(db_error(db, "read cursor"));
          ust.reset();
          for (int kind : {kRead, kDelivered}) {
            if (kind == kDelivered && o.up_to_seq <= delivered_seq) continue;
            auto rst = db.prepare(
                "INSERT OR REPLACE INTO receipts (conversation_id, user_id, kind, up_to_seq, at) "
                "VALUES (?, ?, ?, ?, ?)");
            if (!rst) return core::fail(db_error(db, "prepare receipt"));
            rst->bind(1, o.conversation_id)
                .bind(2, s.in.caller_id)
                .bind(3, kind)
                .bind(4, o.up_to_seq)
                .bind(5, s.in.at);
            if (rst->step() != SQLITE_DONE) return core::fail(db_error(db, "receipt"));
          }
        }
        s.out = std::move(o);
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        if (s.invalid) return done(core::fail(std::move(*s.invalid)));
        done(std::move(s.out));
      });
}

void SqliteStore::mark_delivered(std::string conversation_id, std::string user_id,
                                 std::int64_t up_to_seq, EpochMs at, Callback<std::int64_t> done) {
  struct State {
    std::string conversation_id, user_id;
    std::int64_t seq;
    EpochMs at;
    std::int64_t before = 0;
  };
  write(
      State{std::move(conversation_id), std::move(user_id), up_to_seq, at},
      [](Connection& db, State& s) -> core::Result<void> {
        s.before = s.seq;  // no member: nothing moves
        auto cur = db.prepare(
            "SELECT delivered_seq FROM conversation_members "
            "WHERE conversation_id = ?1 AND user_id = ?2");
        if (!cur) return core::fail(db_error(db, "prepare delivered cursor"));
        cur->bind(1, s.conversation_id).bind(2, s.user_id);
        const int rc = cur->step();
        if (rc == SQLITE_ROW) {
          s.before = cur->integer(0);
        } else if (rc != SQLITE_DONE) {
          return core::fail(db_error(db, "delivered cursor"));
        }
        cur.reset();
        if (s.before >= s.seq) return {};
        auto st = db.prepare(
            "UPDATE conversation_members SET delivered_seq = ?1 "
            "WHERE conversation_id = ?2 AND user_id = ?3");
        if (!st) return core::fail(db_error(db, "prepare delivered"));
        st->bind(1, s.seq).bind(2, s.conversation_id).bind(3, s.user_id);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "delivered"));
        st.reset();
        auto rst = db.prepare(
            "INSERT OR REPLACE INTO receipts (conversation_id, user_id, kind, up_to_seq, at) "
            "VALUES (?, ?, ?, ?, ?)");
        if (!rst) return core::fail(db_error(db, "prepare receipt"));
        rst->bind(1, s.conversation_id)
            .bind(2, s.user_id)
            .bind(3, kDelivered)
            .bind(4, s.seq)
            .bind(5, s.at);
        if (rst->step() != SQLITE_DONE) return core::fail(db_error(db, "receipt"));
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        done(s.before);
      });
}

void SqliteStore::pending_deliveries(std::string user_id, std::optional<PendingCursor> after,
                                     std::size_t limit, Callback<std::vector<Message>> done) {
  read([me = std::move(user_id), after = std::move(after), limit,
        done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    static constexpr const char* sql =
        "SELECT m.conversation_id, m.seq, m.id, m.sender_id, m.text, m.temp_id, m.created_at "
        "FROM conversation_members mine "
        "JOIN conversations c ON c.id = mine.conversation_id AND c.last_seq > mine.delivered_seq "
        "JOIN messages m ON m.conversation_id = mine.conversation_id "
        "AND m.seq > mine.delivered_seq AND m.sender_id <> mine.user_id "
        "WHERE mine.user_id = ?1 AND (m.created_at, m.conversation_id, m.seq) > (?2, ?3, ?4) "
        "ORDER BY m.created_at, m.conversation_id, m.seq LIMIT ?5";
    auto st = db.prepare(sql);
    if (!st) return done(core::fail(db_error(db, "prepare pending")));
    st->bind(1, me)
        .bind(2, after ? after->created_at : std::int64_t{-1})
        .bind(3, after ? std::string_view(after->conversation_id) : std::string_view())
        .bind(4, after ? after->seq : std::int64_t{0})
        .bind(5, static_cast<std::int64_t>(limit));
    std::vector<Message> out;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      Message m = read_message(*st);
      m.to = me;
      out.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "pending")));
    done(std::move(out));
  });
}

void SqliteStore::direct_peer(std::string user_id, std::string conversation_id,
                              Callback<std::optional<std::string>> done) {
  read([user_id = std::move(user_id), conversation_id = std::move(conversation_id),
        done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    auto st = db.prepare(
        "SELECT peer.user_id FROM conversation_members mine "
        "JOIN conversation_members peer ON peer.conversation_id = mine.conversation_id "
        "AND peer.user_id <> mine.user_id "
        "WHERE mine.conversation_id = ?1 AND mine.user_id = ?2 LIMIT 1");
    if (!st) return done(core::fail(db_error(db, "prepare direct peer")));
    st->bind(1, conversation_id).bind(2, user_id);
    const int rc = st->step();
    if (rc == SQLITE_ROW) return done(std::optional<std::string>(st->text(0)));
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "direct peer")));
    done(std::optional<std::string>());
  });
}

void SqliteStore::contacts(std::string user_id, std::size_t limit,
                           Callback<std::vector<std::string>> done) {
  read([user_id = std::move(user_id), limit, done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    auto st = db.prepare(
        "SELECT DISTINCT other.user_id FROM conversation_members me "
        "JOIN conversation_members other ON other.conversation_id = me.conversation_id "
        "WHERE me.user_id = ?1 AND other.user_id != ?1 LIMIT ?2");
    if (!st) return done(core::fail(db_error(db, "prepare contacts")));
    st->bind(1, user_id).bind(2, static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    int rc = SQLITE_ROW;
    while ((rc = st->step()) == SQLITE_ROW) out.push_back(st->text(0));
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "contacts")));
    done(std::move(out));
  });
}

void SqliteStore::conversation_between(std::string a, std::string b,
                                       Callback<std::optional<std::string>> done) {
  read([key = direct_key(a, b), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    auto st = db.prepare("SELECT id FROM conversations WHERE direct_key = ?");
    if (!st) return done(core::fail(db_error(db, "prepare between")));
    st->bind(1, key);
    const int rc = st->step();
    if (rc == SQLITE_ROW) return done(std::optional<std::string>(st->text(0)));
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "between")));
    done(std::optional<std::string>());
  });
}

}  // namespace parley::store::sqlite
