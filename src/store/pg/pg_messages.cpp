// PgStore: conversations, messages and receipt cursors (see the model in
// store/store.hpp and the schema in migrations.cpp).
#include <algorithm>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "store/group_changes.hpp"
#include "store/pg/conversation_queries.hpp"
#include "store/pg/detail.hpp"

namespace parley::store::pg {

namespace {

// Entries the writer's cache holds before it starts over (a bound on its
// memory; a miss costs one indexed lookup).
constexpr std::size_t kMaxCachedEntries = 100000;

template <typename Map, typename Key, typename Value>
void remember(Map& map, Key&& key, Value&& value) {
  if (map.size() >= kMaxCachedEntries) map.clear();
  map.emplace(std::forward<Key>(key), std::forward<Value>(value));
}

}  // namespace

struct PgStore::AppendState {
  NewMessage in;
  Appended out;
  const char* not_found = nullptr;  // why nothing was appended
  std::string pipelined_to;         // the conversation its pipelined statement appends to
};

core::Result<bool> PgStore::user_exists(Connection& db, const std::string& id) {
  if (cache_.known_users.count(id)) return true;
  auto rows = db.query("SELECT 1 FROM users WHERE id = $1", Params().add(id));
  if (!rows) return core::fail(std::move(rows.error()));
  if (rows->size() == 0) return false;
  if (cache_.known_users.size() >= kMaxCachedEntries) cache_.known_users.clear();
  cache_.known_users.insert(id);
  return true;
}

core::Result<PgStore::SendTarget> PgStore::send_target(Connection& db, const std::string& id,
                                                       const std::string& sender) {
  SendTarget t;
  auto key = cache_.direct_keys.find(id);
  if (key == cache_.direct_keys.end()) {
    auto group = locked_groups_.find(id);
    if (group == locked_groups_.end()) {
      // A group's members may change on any node: lock its row (which the
      // append below would lock anyway) and read them after that, so they
      // are the members at the commit.
      auto locked = lock_conversation(db, id);
      if (!locked) return core::fail(std::move(locked.error()));
      if (!*locked) return t;
      if ((*locked)->type == ConversationType::direct) {
        remember(cache_.direct_keys, id, std::move((*locked)->direct_key));
        return send_target(db, id, sender);
      }
      auto found = membership(db, id);
      if (!found) return core::fail(std::move(found.error()));
      auto list = std::make_shared<std::vector<std::string>>();
      if (*found) {
        for (auto& m : (*found)->members) list->push_back(std::move(m.user_id));
      }
      group = locked_groups_.emplace(id, std::move(list)).first;
    }
    const auto& members = *group->second;
    t.found = std::find(members.begin(), members.end(), sender) != members.end();
    if (t.found) t.members = group->second;
    return t;
  }
  const std::string& pair = key->second;
  const auto colon = pair.find(':');
  if (pair.compare(0, colon, sender) == 0) {
    t.to = pair.substr(colon + 1);
  } else if (pair.compare(colon + 1, std::string::npos, sender) == 0) {
    t.to = pair.substr(0, colon);
  } else {
    return t;
  }
  t.found = true;
  return t;
}

namespace {

// A retry (same sender and tempId) finds its original: true, and `s.out`
// holds it.
template <typename State>
core::Result<bool> found_original(Connection& db, State& s) {
  if (!s.in.temp_id) return false;
  auto original = message_by_temp_id(db, s.in.from, *s.in.temp_id);
  if (!original) return core::fail(std::move(original.error()));
  if (!*original) return false;
  s.out = Appended{std::move(**original), true, nullptr};
  return true;
}

}  // namespace

core::Result<std::optional<std::string>> PgStore::destination(Connection& db, AppendState& s) {
  if (!s.in.conversation_id) return direct_destination(db, s);
  auto target = send_target(db, *s.in.conversation_id, s.in.from);
  if (!target) return core::fail(std::move(target.error()));
  if (target->found) {
    s.out.message.to = std::move(target->to);
    s.out.members = std::move(target->members);
    return s.in.conversation_id;
  }
  // No longer the sender's (they left): a retry of what they sent before
  // still gets its original, as any retry does.
  auto original = found_original(db, s);
  if (!original) return core::fail(std::move(original.error()));
  if (!*original) s.not_found = "Conversation not found";
  return std::optional<std::string>();
}

core::Result<std::optional<std::string>> PgStore::direct_destination(Connection& db,
                                                                     AppendState& s) {
  s.out.message.to = s.in.to;
  const std::string key = direct_key(s.in.from, s.in.to);
  if (auto it = cache_.direct.find(key); it != cache_.direct.end()) return it->second;
  // Unknown pair (on this node): a retry may name any recipient, so look
  // for the original first, as the append statement would.
  auto original = found_original(db, s);
  if (!original) return core::fail(std::move(original.error()));
  if (*original) return std::optional<std::string>();
  auto exists = user_exists(db, s.in.to);
  if (!exists) return core::fail(std::move(exists.error()));
  if (!*exists) {
    s.not_found = "Recipient not found";
    return std::optional<std::string>();
  }
  // Created exactly once whichever node gets there first: the unique
  // direct_key makes a concurrent insert wait for the other's commit and
  // then do nothing; the pair's row is read back either way.
  const EpochMs now = core::now_ms();
  auto created = db.query(
      "INSERT INTO conversations (id, type, direct_key, created_at, updated_at, last_seq) "
      "VALUES ($1, 'direct', $2, $3, $3, 0) ON CONFLICT (direct_key) DO NOTHING "
      "RETURNING id",
      Params().add(s.in.new_conversation_id).add(key).add(now));
  if (!created) return core::fail(std::move(created.error()));
  std::string conversation_id;
  if (created->size() == 1) {
    auto members = db.query(
        "INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)",
        Params().add(s.in.new_conversation_id).add(s.in.from).add(s.in.to));
    if (!members) return core::fail(std::move(members.error()));
    conversation_id = s.in.new_conversation_id;
  } else {
    auto rows = db.query("SELECT id FROM conversations WHERE direct_key = $1", Params().add(key));
    if (!rows) return core::fail(std::move(rows.error()));
    if (rows->size() != 1) return core::fail(core::Error::internal("conversation vanished"));
    conversation_id = rows->text(0, 0);
  }
  remember(cache_.direct, key, conversation_id);
  remember(cache_.direct_keys, conversation_id, key);
  return std::optional<std::string>(std::move(conversation_id));
}

namespace {

// The seq: the conversation row's counter, incremented in the statement
// that inserts the message. The UPDATE takes the row's lock (if a group
// send has not taken it already) and keeps it until this batch commits, so
// another writer of this conversation (this node's next batch, or another
// node) waits, then reads the committed counter: seqs are unique, and
// gapless because a rolled-back batch takes its increments with it. The
// cost is that writers of one conversation commit in turn; a sequence
// (nextval) would not wait but leaves gaps on rollback, and max(seq) + 1
// races between nodes. created_at never goes back within a conversation
// (pending deliveries page by it).
//
// A retry of a tempId already stored (committed, or earlier in this batch)
// leaves the counter alone and inserts nothing; two first tries racing on
// two nodes meet at the unique tempId index, and the loser, run again
// alone, finds the winner's message.
const std::string& append_sql() {
  static const std::string sql = fmt::format(
      "WITH c AS (UPDATE conversations SET last_seq = last_seq + 1, "
      "updated_at = greatest(updated_at, $2) WHERE id = $1 AND ($6::text IS NULL OR "
      "NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = $4 AND temp_id = $6)) "
      "RETURNING last_seq, updated_at) "
      "INSERT INTO messages ({}) SELECT $1, c.last_seq, $3, $4, $5, $6, c.updated_at FROM c "
      "RETURNING seq, created_at",
      kMessageColumns);
  return sql;
}

Params append_params(const std::string& conversation_id, const NewMessage& in) {
  return Params()
      .add(conversation_id)
      .add(core::now_ms())
      .add(in.id)
      .add(in.from)
      .add(in.text)
      .add_optional(in.temp_id);
}

}  // namespace

core::Result<void> PgStore::appended(Connection& db, AppendState& s, std::string conversation_id,
                                     Rows& rows) {
  if (rows.size() == 0) {
    auto original = found_original(db, s);
    if (!original) return core::fail(std::move(original.error()));
    if (!*original) return core::fail(core::Error::internal("conversation row missing"));
    return {};
  }
  Message& m = s.out.message;
  m.id = s.in.id;
  m.conversation_id = std::move(conversation_id);
  m.seq = rows.integer(0, 0);
  m.from = s.in.from;
  m.text = s.in.text;
  m.temp_id = s.in.temp_id;
  m.created_at = rows.integer(0, 1);
  m.in_group = s.out.members != nullptr;
  return {};
}

core::Result<void> PgStore::apply_append(Connection& db, AppendState& s) {
  s.out = Appended{};
  s.not_found = nullptr;
  auto conversation_id = destination(db, s);
  if (!conversation_id) return core::fail(std::move(conversation_id.error()));
  if (!*conversation_id) return {};
  auto rows = db.query(append_sql(), append_params(**conversation_id, s.in));
  if (!rows) return core::fail(std::move(rows.error()));
  return appended(db, s, std::move(**conversation_id), *rows);
}

std::optional<Statement> PgStore::pipelined_append(AppendState& s) {
  s.out = Appended{};
  s.not_found = nullptr;
  s.pipelined_to.clear();
  if (!s.in.conversation_id) {
    const auto it = cache_.direct.find(direct_key(s.in.from, s.in.to));
    if (it == cache_.direct.end()) return std::nullopt;
    s.out.message.to = s.in.to;
    s.pipelined_to = it->second;
  } else {
    // A direct conversation known here, or a group this transaction has
    // locked and read the members of (by a send before this one); another
    // group needs its lock first.
    const auto key = cache_.direct_keys.find(*s.in.conversation_id);
    if (key == cache_.direct_keys.end()) {
      const auto group = locked_groups_.find(*s.in.conversation_id);
      if (group == locked_groups_.end()) return std::nullopt;
      const auto& members = *group->second;
      if (std::find(members.begin(), members.end(), s.in.from) == members.end()) {
        return std::nullopt;  // not a member: apply() says so
      }
      s.out.members = group->second;
      s.pipelined_to = *s.in.conversation_id;
      return Statement{append_sql(), append_params(s.pipelined_to, s.in)};
    }
    const std::string& pair = key->second;
    const auto colon = pair.find(':');
    if (pair.compare(0, colon, s.in.from) == 0) {
      s.out.message.to = pair.substr(colon + 1);
    } else if (pair.compare(colon + 1, std::string::npos, s.in.from) == 0) {
      s.out.message.to = pair.substr(0, colon);
    } else {
      return std::nullopt;  // not the sender's: apply() says so
    }
    s.pipelined_to = *s.in.conversation_id;
  }
  return Statement{append_sql(), append_params(s.pipelined_to, s.in)};
}

class PgStore::AppendOp final : public PgStore::WriteOp, public PgStore::PipelinedWrite {
 public:
  AppendOp(PgStore& store, NewMessage message, Callback<Appended> done)
      : store_(store), state_{std::move(message), {}, nullptr, {}}, done_(std::move(done)) {}

  core::Result<void> apply(Connection& db) override {
    error_.reset();
    return store_.apply_append(db, state_);
  }
  std::optional<Statement> statement() override {
    error_.reset();
    return store_.pipelined_append(state_);
  }
  void absorb(Connection& db, Rows& rows) override {
    if (auto r = store_.appended(db, state_, state_.pipelined_to, rows); !r) {
      error_ = std::move(r.error());
    }
  }
  void finish(const core::Error* failure) override {
    if (failure) return done_(core::fail(*failure));
    if (error_) return done_(core::fail(*error_));
    if (state_.not_found) return done_(core::fail(core::ErrorCode::not_found, state_.not_found));
    done_(std::move(state_.out));
  }

 private:
  PgStore& store_;
  AppendState state_;
  std::optional<core::Error> error_;
  Callback<Appended> done_;
};

void PgStore::append_message(NewMessage message, Callback<Appended> done) {
  enqueue(std::make_unique<AppendOp>(*this, std::move(message), std::move(done)));
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
                            const std::string& user_id, ReceiptKind kind, std::int64_t up_to_seq,
                            EpochMs at) {
  auto r = db.query(
      "INSERT INTO receipts (conversation_id, user_id, kind, up_to_seq, at) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id, user_id, kind, up_to_seq) "
      "DO UPDATE SET at = excluded.at",
      Params()
          .add(conversation_id)
          .add(user_id)
          .add(static_cast<std::int64_t>(kind))
          .add(up_to_seq)
          .add(at));
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

// Where mark_read moves the cursor: `upTo`, or the last message by another
// member.
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
      "SELECT seq, id FROM messages WHERE conversation_id = $1 AND sender_id <> $2 "
      "ORDER BY seq DESC LIMIT 1",
      Params().add(o.conversation_id).add(s.in.caller_id));
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
  o.others = std::move(target->others);
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
  if (cursor->size() != 1) return {};  // removed from the group meanwhile: not found
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
    for (const ReceiptKind kind : {ReceiptKind::read, ReceiptKind::delivered}) {
      if (kind == ReceiptKind::delivered && o.up_to_seq <= delivered_seq) continue;
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

namespace {

// A delivered cursor's advance, in one statement (so that it can join a
// pipeline): the cursor as it was, and the move and its receipt mark when it
// goes forward. FOR UPDATE: concurrent advances (other nodes) take turns,
// and each sees the cursor as the previous one left it (READ COMMITTED
// re-reads the row once the lock is granted).
const std::string& advance_delivered_sql() {
  static const std::string sql = fmt::format(
      "WITH old AS (SELECT delivered_seq FROM conversation_members "
      "WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE), "
      "moved AS (UPDATE conversation_members m SET delivered_seq = $3 FROM old "
      "WHERE m.conversation_id = $1 AND m.user_id = $2 AND old.delivered_seq < $3 "
      "RETURNING 1), "
      "marked AS (INSERT INTO receipts (conversation_id, user_id, kind, up_to_seq, at) "
      "SELECT $1, $2, {}, $3, $4 FROM moved "
      "ON CONFLICT (conversation_id, user_id, kind, up_to_seq) DO UPDATE SET at = excluded.at) "
      "SELECT delivered_seq FROM old",
      static_cast<std::int64_t>(ReceiptKind::delivered));
  return sql;
}

}  // namespace

class PgStore::DeliveredOp final : public PgStore::WriteOp, public PgStore::PipelinedWrite {
 public:
  DeliveredOp(std::string conversation_id, std::string user_id, std::int64_t seq, EpochMs at,
              Callback<std::int64_t> done)
      : conversation_id_(std::move(conversation_id)),
        user_id_(std::move(user_id)),
        seq_(seq),
        at_(at),
        done_(std::move(done)) {}

  core::Result<void> apply(Connection& db) override {
    auto rows = db.query(advance_delivered_sql(), params());
    if (!rows) return core::fail(std::move(rows.error()));
    absorb(db, *rows);
    return {};
  }
  std::optional<Statement> statement() override {
    return Statement{advance_delivered_sql(), params()};
  }
  // No member: nothing moves.
  void absorb(Connection& /*db*/, Rows& rows) override {
    before_ = rows.size() == 1 ? rows.integer(0, 0) : seq_;
  }
  void finish(const core::Error* failure) override {
    if (failure) return done_(core::fail(*failure));
    done_(before_);
  }

 private:
  Params params() const { return Params().add(conversation_id_).add(user_id_).add(seq_).add(at_); }

  std::string conversation_id_;
  std::string user_id_;
  std::int64_t seq_;
  EpochMs at_;
  std::int64_t before_ = 0;
  Callback<std::int64_t> done_;
};

void PgStore::mark_delivered(std::string conversation_id, std::string user_id,
                             std::int64_t up_to_seq, EpochMs at, Callback<std::int64_t> done) {
  enqueue(std::make_unique<DeliveredOp>(std::move(conversation_id), std::move(user_id), up_to_seq,
                                        at, std::move(done)));
}

void PgStore::pending_deliveries(std::string user_id, std::optional<PendingCursor> after,
                                 std::size_t limit, Callback<std::vector<Message>> done) {
  read<std::vector<Message>>(
      [me = std::move(user_id), after = std::move(after),
       limit](Connection& db) -> core::Result<std::vector<Message>> {
        static const std::string sql = fmt::format(
            "SELECT m.conversation_id, m.seq, m.id, m.sender_id, m.text, m.temp_id, "
            "m.created_at, c.type = 'group' FROM conversation_members mine "
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
        // Group messages carry their counts: derived per conversation, below.
        std::unordered_map<std::string, std::vector<std::size_t>> in_groups;
        for (int i = 0; i < rows->size(); ++i) {
          Message m = read_message(*rows, i);
          if (rows->text(i, 7) == "t") {
            in_groups[m.conversation_id].push_back(out.size());
          } else {
            m.to = me;
          }
          out.push_back(std::move(m));
        }
        for (const auto& [conversation_id, positions] : in_groups) {
          std::vector<Message> msgs;
          msgs.reserve(positions.size());
          for (auto i : positions) msgs.push_back(std::move(out[i]));
          if (auto r = fill_receipts(db, conversation_id, msgs); !r) {
            return core::fail(std::move(r.error()));
          }
          for (std::size_t k = 0; k < positions.size(); ++k) out[positions[k]] = std::move(msgs[k]);
        }
        return out;
      },
      std::move(done));
}

void PgStore::members(std::string user_id, std::string conversation_id,
                      Callback<std::optional<std::vector<std::string>>> done) {
  using Members = std::optional<std::vector<std::string>>;
  read<Members>(
      [user_id = std::move(user_id),
       conversation_id = std::move(conversation_id)](Connection& db) -> core::Result<Members> {
        auto found = membership(db, conversation_id);
        if (!found) return core::fail(std::move(found.error()));
        if (!*found || !is_member((*found)->members, user_id)) return Members();
        std::vector<std::string> out;
        out.reserve((*found)->members.size());
        for (auto& m : (*found)->members) out.push_back(std::move(m.user_id));
        return Members(std::move(out));
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
