// SqliteStore: conversations, messages and receipt cursors (see the model in
// store/store.hpp and the schema in migrations.cpp).
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "core/clock.hpp"
#include "store/sqlite/conversation_queries.hpp"
#include "store/sqlite/detail.hpp"

namespace parley::store::sqlite {

using detail::closed_error;
using detail::db_error;

namespace {

constexpr std::size_t kMaxCachedConversations = 100000;

std::string direct_key(const std::string& a, const std::string& b) {
  return a < b ? a + ":" + b : b + ":" + a;
}

core::Error validation(std::string field, std::string problem) {
  return core::Error::validation(std::move(field), std::move(problem));
}

struct Resolved {
  bool found = false;
  std::string conversation_id;      // empty: the pair has not talked yet
  std::vector<std::string> others;  // the other members, in join order
};

// `target` as a conversation of the caller, else as a peer user.
core::Result<Resolved> resolve(Connection& db, const std::string& caller,
                               const std::string& target) {
  Resolved r;
  {
    auto st = db.prepare(
        "SELECT user_id FROM conversation_members WHERE conversation_id = ? "
        "ORDER BY position, user_id");
    if (!st) return core::fail(db_error(db, "prepare members"));
    st->bind(1, target);
    bool member = false;
    std::vector<std::string> others;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      std::string u = st->text(0);
      if (u == caller)
        member = true;
      else
        others.push_back(std::move(u));
    }
    if (rc != SQLITE_DONE) return core::fail(db_error(db, "members"));
    if (member) {
      r.found = true;
      r.conversation_id = target;
      r.others = std::move(others);
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
  r.others = {target};
  if (!st->is_null(1)) r.conversation_id = st->text(1);
  return r;
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
  if (cache_.direct.size() > kMaxCachedConversations) {
    cache_.direct.clear();
    cache_.direct_keys.clear();
  }
  if (cache_.groups.size() > kMaxCachedConversations) cache_.groups.clear();
  return {};
}

core::Result<SqliteStore::WriterCache::Group*> SqliteStore::group_entry(Connection& db,
                                                                        const std::string& id) {
  auto it = cache_.groups.find(id);
  if (it == cache_.groups.end()) {
    auto row = conversation_row(db, id);
    if (!row) return core::fail(std::move(row.error()));
    if (!*row || (*row)->type != ConversationType::group) return nullptr;
    WriterCache::Group g;
    g.conversation.id = id;
    g.conversation.last_seq = (*row)->last_seq;
    g.conversation.updated_at = (*row)->updated_at;
    it = cache_.groups.emplace(id, std::move(g)).first;
  }
  WriterCache::Group& g = it->second;
  if (!g.members) {
    auto st = db.prepare(
        "SELECT user_id FROM conversation_members WHERE conversation_id = ? "
        "ORDER BY position, user_id");
    if (!st) return core::fail(db_error(db, "prepare group members"));
    st->bind(1, id);
    auto list = std::make_shared<std::vector<std::string>>();
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) list->push_back(st->text(0));
    if (rc != SQLITE_DONE) return core::fail(db_error(db, "group members"));
    g.members = std::move(list);
  }
  return &g;
}

core::Result<SqliteStore::SendTarget> SqliteStore::send_target(Connection& db,
                                                               const std::string& id,
                                                               const std::string& sender,
                                                               EpochMs now) {
  SendTarget t;
  if (cache_.groups.count(id) == 0) {
    if (auto k = cache_.direct_keys.find(id); k != cache_.direct_keys.end()) {
      const std::string& key = k->second;
      const auto colon = key.find(':');
      if (key.substr(0, colon) == sender) {
        t.to = key.substr(colon + 1);
      } else if (key.substr(colon + 1) == sender) {
        t.to = key.substr(0, colon);
      } else {
        return t;
      }
      auto conv = direct_conversation(db, sender, t.to, nullptr, now);
      if (!conv) return core::fail(std::move(conv.error()));
      t.conversation = *conv;  // null if the row is gone: not found
      return t;
    }
    auto row = conversation_row(db, id);
    if (!row) return core::fail(std::move(row.error()));
    if (!*row) return t;
    if ((*row)->type == ConversationType::direct) {
      cache_.direct_keys[id] = (*row)->direct_key;
      return send_target(db, id, sender, now);
    }
  }
  auto g = group_entry(db, id);
  if (!g) return core::fail(std::move(g.error()));
  if (!*g) return t;
  const auto& members = *(*g)->members;
  if (std::find(members.begin(), members.end(), sender) == members.end()) return t;
  t.conversation = &(*g)->conversation;
  t.members = (*g)->members;
  return t;
}

void SqliteStore::advanced(WriterCache::Conversation& c, const Message& m) {
  c.last_seq = m.seq;
  c.updated_at = m.created_at;
  if (!c.dirty) {
    c.dirty = true;
    cache_.dirty.push_back(&c);
  }
}

void SqliteStore::append_message(NewMessage message, Callback<Appended> done) {
  struct State {
    NewMessage in;
    Appended out;
    const char* not_found = nullptr;
  };
  write(
      State{std::move(message), {}, nullptr},
      [this](Connection& db, State& s) -> core::Result<void> {
        s.out = Appended{};
        s.not_found = nullptr;
        if (s.in.temp_id) {
          static const std::string sql = fmt::format(
              "SELECT {} FROM messages WHERE sender_id = ? AND temp_id = ?", kMessageColumns);
          auto st = db.prepare(sql.c_str());
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
        const EpochMs now = core::now_ms();
        WriterCache::Conversation* conv = nullptr;
        Message& m = s.out.message;
        if (s.in.conversation_id) {
          auto target = send_target(db, *s.in.conversation_id, s.in.from, now);
          if (!target) return core::fail(std::move(target.error()));
          if (!target->conversation) {
            s.not_found = "Conversation not found";
            return {};
          }
          conv = target->conversation;
          m.to = std::move(target->to);
          s.out.members = std::move(target->members);
          m.in_group = s.out.members != nullptr;
        } else {
          auto exists = user_exists(db, s.in.to);
          if (!exists) return core::fail(std::move(exists.error()));
          if (!*exists) {
            s.not_found = "Recipient not found";
            return {};
          }
          auto c = direct_conversation(db, s.in.from, s.in.to, &s.in.new_conversation_id, now);
          if (!c) return core::fail(std::move(c.error()));
          conv = *c;
          m.to = s.in.to;
          if (cache_.direct_keys.count(conv->id) == 0) {
            cache_.direct_keys.emplace(conv->id, direct_key(s.in.from, s.in.to));
          }
        }
        m.id = s.in.id;
        m.conversation_id = conv->id;
        m.seq = conv->last_seq + 1;
        m.from = s.in.from;
        m.text = s.in.text;
        m.temp_id = s.in.temp_id;
        m.created_at = std::max(now, conv->updated_at);  // never before the previous message
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
        advanced(*conv, m);
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        if (s.not_found) return done(core::fail(core::ErrorCode::not_found, s.not_found));
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
        o.others = target->others;
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
          // The last message by another member.
          auto st = db.prepare(
              "SELECT seq, id FROM messages WHERE conversation_id = ? AND sender_id <> ? "
              "ORDER BY seq DESC LIMIT 1");
          if (!st) return core::fail(db_error(db, "prepare last from others"));
          st->bind(1, o.conversation_id).bind(2, s.in.caller_id);
          const int rc = st->step();
          if (rc == SQLITE_ROW) {
            o.up_to_seq = st->integer(0);
            o.up_to_id = st->text(1);
          } else if (rc != SQLITE_DONE) {
            return core::fail(db_error(db, "last from others"));
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
          for (const ReceiptKind kind : {ReceiptKind::read, ReceiptKind::delivered}) {
            if (kind == ReceiptKind::delivered && o.up_to_seq <= delivered_seq) continue;
            auto rst = db.prepare(
                "INSERT OR REPLACE INTO receipts (conversation_id, user_id, kind, up_to_seq, at) "
                "VALUES (?, ?, ?, ?, ?)");
            if (!rst) return core::fail(db_error(db, "prepare receipt"));
            rst->bind(1, o.conversation_id)
                .bind(2, s.in.caller_id)
                .bind(3, static_cast<std::int64_t>(kind))
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
            .bind(3, static_cast<std::int64_t>(ReceiptKind::delivered))
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
        "SELECT m.conversation_id, m.seq, m.id, m.sender_id, m.text, m.temp_id, m.created_at, "
        "c.type = 'group' "
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
    // Group messages carry their counts: derived per conversation, below.
    std::unordered_map<std::string, std::vector<std::size_t>> in_groups;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      Message m = read_message(*st);
      if (st->integer(7) != 0) {
        in_groups[m.conversation_id].push_back(out.size());
      } else {
        m.to = me;
      }
      out.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "pending")));
    st.reset();
    for (const auto& [conversation_id, positions] : in_groups) {
      std::vector<Message> msgs;
      msgs.reserve(positions.size());
      for (auto i : positions) msgs.push_back(std::move(out[i]));
      if (auto r = fill_receipts(db, conversation_id, msgs); !r) {
        return done(core::fail(std::move(r.error())));
      }
      for (std::size_t k = 0; k < positions.size(); ++k) out[positions[k]] = std::move(msgs[k]);
    }
    done(std::move(out));
  });
}

void SqliteStore::members(std::string user_id, std::string conversation_id,
                          Callback<std::optional<std::vector<std::string>>> done) {
  read([user_id = std::move(user_id), conversation_id = std::move(conversation_id),
        done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    auto st = db.prepare(
        "SELECT user_id FROM conversation_members WHERE conversation_id = ? "
        "ORDER BY position, user_id");
    if (!st) return done(core::fail(db_error(db, "prepare members")));
    st->bind(1, conversation_id);
    std::vector<std::string> out;
    bool member = false;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) {
      out.push_back(st->text(0));
      member = member || out.back() == user_id;
    }
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "members")));
    if (!member) return done(std::optional<std::vector<std::string>>());
    done(std::optional<std::vector<std::string>>(std::move(out)));
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
