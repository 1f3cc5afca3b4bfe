// PgStore: conversations, messages and receipt cursors (see the model in
// store/store.hpp and the schema in migrations.cpp).
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "store/pg/detail.hpp"

namespace parley::store::pg {

using detail::read_user;

namespace {

constexpr int kDelivered = 0;
constexpr int kRead = 1;
// Entries the writer's cache holds before it starts over (a bound on its
// memory; a miss costs one indexed lookup).
constexpr std::size_t kMaxCachedEntries = 100000;

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
    auto rows = db.query("SELECT user_id FROM conversation_members WHERE conversation_id = $1",
                         Params().add(target));
    if (!rows) return core::fail(std::move(rows.error()));
    bool member = false;
    std::string other;
    for (int i = 0; i < rows->size(); ++i) {
      std::string u = rows->text(i, 0);
      if (u == caller)
        member = true;
      else
        other = std::move(u);
    }
    if (member) {
      r.found = true;
      r.conversation_id = target;
      r.peer_id = std::move(other);
      return r;
    }
  }
  if (target == caller) return r;
  auto rows = db.query(
      "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1), "
      "(SELECT id FROM conversations WHERE direct_key = $2)",
      Params().add(target).add(direct_key(caller, target)));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->text(0, 0) != "t") return r;
  r.found = true;
  r.peer_id = target;
  if (!rows->is_null(0, 1)) r.conversation_id = rows->text(0, 1);
  return r;
}

// Message columns: conversation_id, seq, id, sender_id, text, temp_id,
// created_at.
constexpr const char* kMessageColumns =
    "conversation_id, seq, id, sender_id, text, temp_id, created_at";

Message read_message(const Rows& rows, int row, int first = 0) {
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

// Sets `to`, `delivered_at` and `read_at` of messages of one direct
// conversation from its members' cursors and receipt marks.
core::Result<void> fill_receipts(Connection& db, const std::string& conversation_id,
                                 std::vector<Message>& msgs) {
  if (msgs.empty()) return {};
  auto members = db.query(
      "SELECT user_id, delivered_seq, read_seq FROM conversation_members "
      "WHERE conversation_id = $1",
      Params().add(conversation_id));
  if (!members) return core::fail(std::move(members.error()));
  for (int i = 0; i < members->size(); ++i) {
    const std::string recipient = members->text(i, 0);
    std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = 0;
    for (auto& m : msgs) {
      if (m.from == recipient) continue;
      m.to = recipient;
      lo = std::min(lo, m.seq);
      hi = std::max(hi, m.seq);
    }
    for (int kind : {kDelivered, kRead}) {
      const std::int64_t cursor = members->integer(i, kind == kDelivered ? 1 : 2);
      if (hi == 0 || cursor < lo) continue;
      // Marks ascend in both seq and time: those from the first that covers
      // `lo` to the first that covers `hi`.
      auto rows = db.query(
          "SELECT up_to_seq, at FROM receipts WHERE conversation_id = $1 AND user_id = $2 "
          "AND kind = $3 AND up_to_seq >= $4 AND up_to_seq <= coalesce((SELECT min(up_to_seq) "
          "FROM receipts WHERE conversation_id = $1 AND user_id = $2 AND kind = $3 "
          "AND up_to_seq >= $5), $5) ORDER BY up_to_seq",
          Params().add(conversation_id).add(recipient).add(std::int64_t{kind}).add(lo).add(hi));
      if (!rows) return core::fail(std::move(rows.error()));
      std::vector<std::pair<std::int64_t, EpochMs>> marks;
      marks.reserve(static_cast<std::size_t>(rows->size()));
      for (int j = 0; j < rows->size(); ++j) {
        marks.emplace_back(rows->integer(j, 0), rows->integer(j, 1));
      }
      for (auto& m : msgs) {
        if (m.from == recipient || m.seq > cursor) continue;
        auto it =
            std::lower_bound(marks.begin(), marks.end(), m.seq,
                             [](const auto& mark, std::int64_t seq) { return mark.first < seq; });
        if (it == marks.end()) continue;
        (kind == kDelivered ? m.delivered_at : m.read_at) = it->second;
      }
    }
  }
  return {};
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

}  // namespace

void PgStore::append_message(NewMessage message, Callback<Appended> done) {
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
        const std::string key = direct_key(s.in.from, s.in.to);
        std::string conversation_id;
        if (auto it = cache_.direct.find(key); it != cache_.direct.end()) {
          conversation_id = it->second;
        } else {
          // Unknown pair (on this node): a retry may name any recipient, so
          // look for the original first, as the statement below would.
          if (s.in.temp_id) {
            auto original = message_by_temp_id(db, s.in.from, *s.in.temp_id);
            if (!original) return core::fail(std::move(original.error()));
            if (*original) {
              s.out = Appended{std::move(**original), true};
              return {};
            }
          }
          if (!cache_.known_users.count(s.in.to)) {
            auto rows = db.query("SELECT 1 FROM users WHERE id = $1", Params().add(s.in.to));
            if (!rows) return core::fail(std::move(rows.error()));
            if (rows->size() == 0) {
              s.not_found = true;
              return {};
            }
            if (cache_.known_users.size() >= kMaxCachedEntries) cache_.known_users.clear();
            cache_.known_users.insert(s.in.to);
          }
          // Created exactly once whichever node gets there first: the unique
          // direct_key makes a concurrent insert wait for the other's commit
          // and then do nothing; the pair's row is read back either way.
          const EpochMs now = core::now_ms();
          auto created = db.query(
              "INSERT INTO conversations (id, type, direct_key, created_at, updated_at, last_seq) "
              "VALUES ($1, 'direct', $2, $3, $3, 0) ON CONFLICT (direct_key) DO NOTHING "
              "RETURNING id",
              Params().add(s.in.new_conversation_id).add(key).add(now));
          if (!created) return core::fail(std::move(created.error()));
          if (created->size() == 1) {
            auto members = db.query(
                "INSERT INTO conversation_members (conversation_id, user_id) "
                "VALUES ($1, $2), ($1, $3)",
                Params().add(s.in.new_conversation_id).add(s.in.from).add(s.in.to));
            if (!members) return core::fail(std::move(members.error()));
            conversation_id = s.in.new_conversation_id;
          } else {
            auto rows =
                db.query("SELECT id FROM conversations WHERE direct_key = $1", Params().add(key));
            if (!rows) return core::fail(std::move(rows.error()));
            if (rows->size() != 1)
              return core::fail(core::Error::internal("conversation vanished"));
            conversation_id = rows->text(0, 0);
          }
          if (cache_.direct.size() >= kMaxCachedEntries) cache_.direct.clear();
          cache_.direct.emplace(key, conversation_id);
        }
        // The seq: the conversation row's counter, incremented in the
        // statement that inserts the message. The UPDATE takes the row's
        // lock and keeps it until this batch commits, so another writer of
        // this conversation (this node's next batch, or another node) waits,
        // then reads the committed counter: seqs are unique, and gapless
        // because a rolled-back batch takes its increments with it. The cost
        // is that writers of one conversation commit in turn; a sequence
        // (nextval) would not wait but leaves gaps on rollback, and
        // max(seq) + 1 races between nodes. created_at never goes back
        // within a conversation (pending deliveries page by it).
        //
        // A retry of a tempId already stored (committed, or earlier in this
        // batch) leaves the counter alone and inserts nothing; two first
        // tries racing on two nodes meet at the unique tempId index, and
        // the loser, run again alone, finds the winner's message.
        static const std::string append_sql = fmt::format(
            "WITH c AS (UPDATE conversations SET last_seq = last_seq + 1, "
            "updated_at = greatest(updated_at, $2) WHERE id = $1 AND ($6::text IS NULL OR "
            "NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = $4 AND temp_id = $6)) "
            "RETURNING last_seq, updated_at) "
            "INSERT INTO messages ({}) SELECT $1, c.last_seq, $3, $4, $5, $6, c.updated_at FROM c "
            "RETURNING seq, created_at",
            kMessageColumns);
        auto appended = db.query(append_sql, Params()
                                                 .add(conversation_id)
                                                 .add(core::now_ms())
                                                 .add(s.in.id)
                                                 .add(s.in.from)
                                                 .add(s.in.text)
                                                 .add_optional(s.in.temp_id));
        if (!appended) return core::fail(std::move(appended.error()));
        if (appended->size() == 0) {
          if (!s.in.temp_id) return core::fail(core::Error::internal("conversation row missing"));
          auto original = message_by_temp_id(db, s.in.from, *s.in.temp_id);
          if (!original) return core::fail(std::move(original.error()));
          if (!*original) return core::fail(core::Error::internal("tempId original missing"));
          s.out = Appended{std::move(**original), true};
          return {};
        }
        Message& m = s.out.message;
        m.id = s.in.id;
        m.conversation_id = conversation_id;
        m.seq = appended->integer(0, 0);
        m.from = s.in.from;
        m.to = s.in.to;
        m.text = s.in.text;
        m.temp_id = s.in.temp_id;
        m.created_at = appended->integer(0, 1);
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        if (s.not_found) return done(core::fail(core::ErrorCode::not_found, "Recipient not found"));
        done(std::move(s.out));
      });
}

void PgStore::read_history(HistoryQuery query, Callback<std::optional<History>> done) {
  read<std::optional<History>>(
      [q = std::move(query)](Connection& db) -> core::Result<std::optional<History>> {
        auto target = resolve(db, q.caller_id, q.target_id);
        if (!target) return core::fail(std::move(target.error()));
        if (!target->found) return std::optional<History>();
        History h;
        h.conversation_id = target->conversation_id;
        if (h.conversation_id.empty()) return std::optional<History>(std::move(h));

        std::int64_t before_seq = std::numeric_limits<std::int64_t>::max();
        if (q.before_id) {
          auto rows = db.query("SELECT seq FROM messages WHERE id = $1 AND conversation_id = $2",
                               Params().add(*q.before_id).add(h.conversation_id));
          if (!rows) return core::fail(std::move(rows.error()));
          if (rows->size() == 0) {
            return core::fail(validation("before", "is not a message of this conversation"));
          }
          before_seq = rows->integer(0, 0);
        }
        static const std::string newest_sql = fmt::format(
            "SELECT {} FROM messages WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC "
            "LIMIT $3 OFFSET $4",
            kMessageColumns);
        static const std::string after_sql = fmt::format(
            "SELECT {} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq "
            "LIMIT $3",
            kMessageColumns);
        auto rows = q.after_seq ? db.query(after_sql, Params()
                                                          .add(h.conversation_id)
                                                          .add(*q.after_seq)
                                                          .add(static_cast<std::int64_t>(q.limit)))
                                : db.query(newest_sql, Params()
                                                           .add(h.conversation_id)
                                                           .add(before_seq)
                                                           .add(static_cast<std::int64_t>(q.limit))
                                                           .add(static_cast<std::int64_t>(q.skip)));
        if (!rows) return core::fail(std::move(rows.error()));
        h.messages.reserve(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) h.messages.push_back(read_message(*rows, i));
        if (!q.after_seq) std::reverse(h.messages.begin(), h.messages.end());
        if (auto r = fill_receipts(db, h.conversation_id, h.messages); !r) {
          return core::fail(std::move(r.error()));
        }
        return std::optional<History>(std::move(h));
      },
      std::move(done));
}

namespace {

// The caller's conversations (all, or the one `only`), most recent first,
// with each one's last message and unread count, in one statement (plus the
// receipts of each last message).
core::Result<std::vector<ConversationSummary>> conversations_of(
    Connection& db, const std::string& me, const std::optional<std::string>& only) {
  static const std::string base = fmt::format(
      "SELECT c.id, c.updated_at, u.id, u.name, u.email, u.avatar, u.created_at, u.last_seen, "
      "(SELECT count(*) FROM messages x WHERE x.conversation_id = c.id "
      "AND x.seq > mine.read_seq AND x.sender_id <> $1), last.* "
      "FROM conversation_members mine "
      "JOIN conversations c ON c.id = mine.conversation_id "
      "JOIN conversation_members peer ON peer.conversation_id = mine.conversation_id "
      "AND peer.user_id <> mine.user_id "
      "JOIN users u ON u.id = peer.user_id "
      "LEFT JOIN LATERAL (SELECT {} FROM messages m WHERE m.conversation_id = c.id "
      "ORDER BY m.seq DESC LIMIT 1) last ON true "
      "WHERE mine.user_id = $1",
      kMessageColumns);
  static const std::string all_sql = base + " ORDER BY c.updated_at DESC, c.id DESC";
  static const std::string one_sql = base + " AND mine.conversation_id = $2";
  Params params;
  params.add(me);
  if (only) params.add(*only);
  auto rows = db.query(only ? one_sql : all_sql, params);
  if (!rows) return core::fail(std::move(rows.error()));
  std::vector<ConversationSummary> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    ConversationSummary c;
    c.id = rows->text(i, 0);
    c.updated_at = rows->integer(i, 1);
    c.peer = read_user(*rows, i, 2);
    c.participants = {me, c.peer.id};
    std::sort(c.participants.begin(), c.participants.end());
    c.unread_count = rows->integer(i, 8);
    if (!rows->is_null(i, 9)) {
      std::vector<Message> one{read_message(*rows, i, 9)};
      if (auto r = fill_receipts(db, c.id, one); !r) return core::fail(std::move(r.error()));
      c.last_message = std::move(one.front());
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

void PgStore::list_conversations(std::string user_id,
                                 Callback<std::vector<ConversationSummary>> done) {
  read<std::vector<ConversationSummary>>(
      [me = std::move(user_id)](Connection& db) { return conversations_of(db, me, std::nullopt); },
      std::move(done));
}

void PgStore::conversation(std::string user_id, std::string conversation_id,
                           Callback<std::optional<ConversationSummary>> done) {
  read<std::optional<ConversationSummary>>(
      [me = std::move(user_id), id = std::move(conversation_id)](
          Connection& db) -> core::Result<std::optional<ConversationSummary>> {
        auto r = conversations_of(db, me, id);
        if (!r) return core::fail(std::move(r.error()));
        if (r->empty()) return std::optional<ConversationSummary>();
        return std::optional<ConversationSummary>(std::move(r->front()));
      },
      std::move(done));
}

namespace {

// Adds a receipt mark (replacing one at the same seq).
core::Result<void> add_mark(Connection& db, const std::string& conversation_id,
                            const std::string& user_id, int kind, std::int64_t up_to_seq,
                            EpochMs at) {
  auto r = db.query(
      "INSERT INTO receipts (conversation_id, user_id, kind, up_to_seq, at) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id, user_id, kind, up_to_seq) "
      "DO UPDATE SET at = excluded.at",
      Params().add(conversation_id).add(user_id).add(std::int64_t{kind}).add(up_to_seq).add(at));
  if (!r) return core::fail(std::move(r.error()));
  return {};
}

// The outcome of mark_read inside the writer's transaction: nullopt in
// `out` when the target is not found; `invalid` for a bad upTo.
struct ReadState {
  ReadRequest in;
  std::optional<ReadOutcome> out;
  std::optional<core::Error> invalid;
};

// Where mark_read moves the cursor: `upTo`, or the peer's last message.
core::Result<void> read_target(Connection& db, ReadState& s, ReadOutcome& o) {
  if (s.in.up_to_id) {
    auto rows = db.query("SELECT seq FROM messages WHERE id = $1 AND conversation_id = $2",
                         Params().add(*s.in.up_to_id).add(o.conversation_id));
    if (!rows) return core::fail(std::move(rows.error()));
    if (rows->size() == 0) {
      s.invalid = validation("upTo", "is not a message of this conversation");
      return {};
    }
    o.up_to_seq = rows->integer(0, 0);
    o.up_to_id = s.in.up_to_id;
    return {};
  }
  auto rows = db.query(
      "SELECT seq, id FROM messages WHERE conversation_id = $1 AND sender_id = $2 "
      "ORDER BY seq DESC LIMIT 1",
      Params().add(o.conversation_id).add(o.peer_id));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->size() == 1) {
    o.up_to_seq = rows->integer(0, 0);
    o.up_to_id = rows->text(0, 1);
  }
  return {};
}

core::Result<void> apply_read(Connection& db, ReadState& s) {
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
  // FOR UPDATE: another node moving this member's cursors waits, so the
  // count and the marks below start from the committed cursor.
  auto cursor = db.query(
      "SELECT delivered_seq, read_seq FROM conversation_members "
      "WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE",
      Params().add(o.conversation_id).add(s.in.caller_id));
  if (!cursor) return core::fail(std::move(cursor.error()));
  if (cursor->size() != 1) return core::fail(core::Error::internal("member cursor missing"));
  const std::int64_t delivered_seq = cursor->integer(0, 0);
  const std::int64_t read_seq = cursor->integer(0, 1);
  if (auto r = read_target(db, s, o); !r || s.invalid) return r;
  if (o.up_to_seq > read_seq) {
    auto count = db.query(
        "SELECT count(*) FROM messages WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 "
        "AND sender_id <> $4",
        Params().add(o.conversation_id).add(read_seq).add(o.up_to_seq).add(s.in.caller_id));
    if (!count) return core::fail(std::move(count.error()));
    o.count = count->integer(0, 0);
    auto moved = db.query(
        "UPDATE conversation_members SET read_seq = $1, "
        "delivered_seq = greatest(delivered_seq, $1) WHERE conversation_id = $2 AND user_id = $3",
        Params().add(o.up_to_seq).add(o.conversation_id).add(s.in.caller_id));
    if (!moved) return core::fail(std::move(moved.error()));
    for (int kind : {kRead, kDelivered}) {
      if (kind == kDelivered && o.up_to_seq <= delivered_seq) continue;
      if (auto r = add_mark(db, o.conversation_id, s.in.caller_id, kind, o.up_to_seq, s.in.at);
          !r) {
        return r;
      }
    }
  }
  s.out = std::move(o);
  return {};
}

}  // namespace

void PgStore::mark_read(ReadRequest request, Callback<std::optional<ReadOutcome>> done) {
  write(
      ReadState{std::move(request), {}, {}},
      [](Connection& db, ReadState& s) { return apply_read(db, s); },
      [done = std::move(done)](const core::Error* failure, ReadState& s) {
        if (failure) return done(core::fail(*failure));
        if (s.invalid) return done(core::fail(std::move(*s.invalid)));
        done(std::move(s.out));
      });
}

void PgStore::mark_delivered(std::string conversation_id, std::string user_id,
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
        // FOR UPDATE: concurrent advances (other nodes) take turns, so each
        // sees the cursor as the previous one left it.
        auto cursor = db.query(
            "SELECT delivered_seq FROM conversation_members "
            "WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE",
            Params().add(s.conversation_id).add(s.user_id));
        if (!cursor) return core::fail(std::move(cursor.error()));
        if (cursor->size() == 1) s.before = cursor->integer(0, 0);
        if (s.before >= s.seq) return {};
        auto moved = db.query(
            "UPDATE conversation_members SET delivered_seq = $1 "
            "WHERE conversation_id = $2 AND user_id = $3",
            Params().add(s.seq).add(s.conversation_id).add(s.user_id));
        if (!moved) return core::fail(std::move(moved.error()));
        return add_mark(db, s.conversation_id, s.user_id, kDelivered, s.seq, s.at);
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        done(s.before);
      });
}

void PgStore::pending_deliveries(std::string user_id, std::optional<PendingCursor> after,
                                 std::size_t limit, Callback<std::vector<Message>> done) {
  read<std::vector<Message>>(
      [me = std::move(user_id), after = std::move(after),
       limit](Connection& db) -> core::Result<std::vector<Message>> {
        static const std::string sql = fmt::format(
            "SELECT m.conversation_id, m.seq, m.id, m.sender_id, m.text, m.temp_id, "
            "m.created_at FROM conversation_members mine "
            "JOIN conversations c ON c.id = mine.conversation_id "
            "AND c.last_seq > mine.delivered_seq "
            "JOIN messages m ON m.conversation_id = mine.conversation_id "
            "AND m.seq > mine.delivered_seq AND m.sender_id <> mine.user_id "
            "WHERE mine.user_id = $1 "
            "AND (m.created_at, m.conversation_id, m.seq) > ($2::bigint, $3::text, $4::bigint) "
            "ORDER BY m.created_at, m.conversation_id, m.seq LIMIT $5");
        auto rows = db.query(sql, Params()
                                      .add(me)
                                      .add(after ? after->created_at : std::int64_t{-1})
                                      .add(after ? after->conversation_id : std::string())
                                      .add(after ? after->seq : std::int64_t{0})
                                      .add(static_cast<std::int64_t>(limit)));
        if (!rows) return core::fail(std::move(rows.error()));
        std::vector<Message> out;
        out.reserve(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) {
          Message m = read_message(*rows, i);
          m.to = me;
          out.push_back(std::move(m));
        }
        return out;
      },
      std::move(done));
}

void PgStore::direct_peer(std::string user_id, std::string conversation_id,
                          Callback<std::optional<std::string>> done) {
  read<std::optional<std::string>>(
      [user_id = std::move(user_id), conversation_id = std::move(conversation_id)](
          Connection& db) -> core::Result<std::optional<std::string>> {
        auto rows = db.query(
            "SELECT peer.user_id FROM conversation_members mine "
            "JOIN conversation_members peer ON peer.conversation_id = mine.conversation_id "
            "AND peer.user_id <> mine.user_id "
            "WHERE mine.conversation_id = $1 AND mine.user_id = $2 LIMIT 1",
            Params().add(conversation_id).add(user_id));
        if (!rows) return core::fail(std::move(rows.error()));
        if (rows->size() == 0) return std::optional<std::string>();
        return std::optional<std::string>(rows->text(0, 0));
      },
      std::move(done));
}

void PgStore::contacts(std::string user_id, std::size_t limit,
                       Callback<std::vector<std::string>> done) {
  read<std::vector<std::string>>(
      [user_id = std::move(user_id),
       limit](Connection& db) -> core::Result<std::vector<std::string>> {
        auto rows = db.query(
            "SELECT DISTINCT other.user_id FROM conversation_members me "
            "JOIN conversation_members other ON other.conversation_id = me.conversation_id "
            "WHERE me.user_id = $1 AND other.user_id <> $1 LIMIT $2",
            Params().add(user_id).add(static_cast<std::int64_t>(limit)));
        if (!rows) return core::fail(std::move(rows.error()));
        std::vector<std::string> out;
        out.reserve(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) out.push_back(rows->text(i, 0));
        return out;
      },
      std::move(done));
}

void PgStore::conversation_between(std::string a, std::string b,
                                   Callback<std::optional<std::string>> done) {
  read<std::optional<std::string>>(
      [key = direct_key(a, b)](Connection& db) -> core::Result<std::optional<std::string>> {
        auto rows =
            db.query("SELECT id FROM conversations WHERE direct_key = $1", Params().add(key));
        if (!rows) return core::fail(std::move(rows.error()));
        if (rows->size() == 0) return std::optional<std::string>();
        return std::optional<std::string>(rows->text(0, 0));
      },
      std::move(done));
}

}  // namespace parley::store::pg
