// PgStore: the Store contract (store/store.hpp) on PostgreSQL, through
// libpq. Several parleyd nodes may share one database.
//
// DESIGN
// - One writer thread owns the only write connection (synchronous_commit
//   on). Writes are queued (one lock per push); the writer drains everything
//   queued into one transaction, commits once (one WAL flush for the batch:
//   group commit), then hands the batch to the completion thread, which runs
//   the callbacks in commit order. Under light load a single write commits
//   at once; under a burst the batch grows by itself, up to kMaxBatch.
// - Round trips: a write whose statement the writer's caches can say
//   without asking the database (a message to a direct conversation it has
//   seen) is a PipelinedWrite. A row of those goes to the server in libpq's
//   pipeline mode, one round trip for them all, with BEGIN and COMMIT in it
//   when they open and end the batch: a batch of such messages costs one
//   round trip, not one per message; delivered-cursor advances are one
//   statement each and join the rows too, and so do sends to a group this
//   transaction has already locked. The others (a new pair, a group's first
//   send of the batch, which locks it and reads its members, group changes)
//   run one statement at a time.
// - Reads run on `pool_size` threads, each job borrowing one of `pool_size`
//   read connections; MVCC means they never wait behind the writer.
// - Several nodes: a message's seq comes from an UPDATE of its
//   conversation's row (see pg_messages.cpp), whose row lock is held to the
//   commit, so concurrent writers of one conversation take turns and seqs
//   stay gapless and unique; a direct conversation is created exactly once
//   (unique key, ON CONFLICT DO NOTHING). A group's changes and sends lock
//   that same row before they read its members (see pg_groups.cpp), so they
//   too take turns across nodes.
// - A lost connection (database restarted, network) fails the operations
//   that needed it with ErrorCode::unavailable, never hangs them; each
//   connection reconnects by itself with bounded exponential backoff
//   (Connection::ensure, one Backoff for all). A batch whose COMMIT got no answer is reported
//   unavailable although it may have committed: never the other way round,
//   so nothing acknowledged is lost (clients retry with their tempId).
// - The writer, the readers and nothing else touch libpq connections.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/thread_pool.hpp"
#include "store/pg/connection.hpp"
#include "store/store.hpp"
#include "store/write_op.hpp"

namespace parley::store::pg {

struct PgOptions {
  std::string url;         // a libpq connection URL or string (DATABASE_URL)
  unsigned pool_size = 4;  // read connections and threads (PG_POOL_SIZE)
};

class PgStore final : public Store {
 public:
  // Connects, applies migrations and starts the threads. Returns an error
  // text when the database cannot be reached or migrated.
  static tl::expected<std::unique_ptr<PgStore>, std::string> open(const PgOptions& options);
  ~PgStore() override;

  void create_user(NewUser user, Callback<User> done) override;
  void user_by_id(std::string id, Callback<std::optional<User>> done) override;
  void credentials_by_email(std::string email, Callback<std::optional<Credentials>> done) override;
  void list_users(UserQuery query, Callback<std::vector<User>> done) override;
  void set_last_seen(std::string user_id, EpochMs at, Callback<void> done) override;
  void revoke_token(std::string jti, EpochMs expires_at, Callback<void> done) override;
  void check_token(std::string user_id, std::string jti, Callback<TokenCheck> done) override;
  void purge_revocations(EpochMs now, Callback<std::size_t> done) override;
  void append_message(NewMessage message, Callback<Appended> done) override;
  void read_history(HistoryQuery query, Callback<std::optional<History>> done) override;
  void list_conversations(std::string user_id,
                          Callback<std::vector<ConversationSummary>> done) override;
  void conversation(std::string user_id, std::string conversation_id,
                    Callback<std::optional<ConversationSummary>> done) override;
  void mark_read(ReadRequest request, Callback<std::optional<ReadOutcome>> done) override;
  void mark_delivered(std::string conversation_id, std::string user_id, std::int64_t up_to_seq,
                      EpochMs at, Callback<std::int64_t> done) override;
  void pending_deliveries(std::string user_id, std::optional<PendingCursor> after,
                          std::size_t limit, Callback<std::vector<Message>> done) override;
  void members(std::string user_id, std::string conversation_id,
               Callback<std::optional<std::vector<std::string>>> done) override;
  void contacts(std::string user_id, std::size_t limit,
                Callback<std::vector<std::string>> done) override;
  void conversation_between(std::string a, std::string b,
                            Callback<std::optional<std::string>> done) override;
  void create_group(NewGroup group, Callback<GroupUpdate> done) override;
  void rename_group(std::string caller_id, std::string conversation_id, std::string name,
                    Callback<std::optional<GroupUpdate>> done) override;
  void add_members(MembersChange change, Callback<std::optional<GroupUpdate>> done) override;
  void remove_member(MembersChange change, Callback<std::optional<GroupUpdate>> done) override;
  void ping(Callback<void> done) override;
  void close() override;

  struct Stats {
    std::atomic<std::uint64_t> batches{0};  // committed transactions
    std::atomic<std::uint64_t> writes{0};   // writes in them
    std::atomic<std::uint64_t> largest_batch{0};
    std::atomic<std::uint64_t> retried_batches{0};  // run again after a deadlock
  };
  const Stats& stats() const { return stats_; }

  // One write inside a batch transaction (store/write_op.hpp).
  using WriteOp = store::WriteOp<Connection>;
  // A write that can also run as one statement of a pipeline: the writer
  // sends the statements of such writes in a row together, one round trip
  // for them all (BEGIN and COMMIT included when the batch is only those).
  class PipelinedWrite {
   public:
    virtual ~PipelinedWrite() = default;
    // Its statement, when the writer's caches let it say it now, without
    // asking the database; nullopt: it runs by apply().
    virtual std::optional<Statement> statement() = 0;
    // The statement's rows; may ask the database more (after the commit
    // when the pipeline held it: reads only). A failure here is this
    // write's own, reported by its finish().
    virtual void absorb(Connection& db, Rows& rows) = 0;
  };

  // What the writer remembers between batches so that a send is usually one
  // statement: users known to exist and direct conversations' ids and pairs
  // (users and conversations are never deleted, and neither ids nor a
  // direct conversation's pair ever change, so this holds on every node).
  // Not a group's members: another node may change them. Writer thread
  // only; cleared when a transaction rolls back, since it may hold a
  // conversation that the rollback undid.
  struct WriterCache {
    std::unordered_set<std::string> known_users;
    std::unordered_map<std::string, std::string> direct;       // direct key -> conversation id
    std::unordered_map<std::string, std::string> direct_keys;  // conversation id -> direct key
  };

 private:
  explicit PgStore(PgOptions options);
  template <typename State, typename Apply, typename Done>
  void write(State state, Apply apply, Done done);
  void enqueue(std::unique_ptr<WriteOp> op);
  // Runs `query` on a read connection on a pool thread, then `done` there.
  // A query that found its connection lost runs once more on a new one.
  template <typename T>
  void read(std::function<core::Result<T>(Connection&)> query, Callback<T> done);
  void post_read(std::function<void(Connection*)> job);
  void writer_loop();
  void commit_batch(std::vector<std::unique_ptr<WriteOp>>& batch);
  // Runs `ops` in one transaction (again after a deadlock, a bounded number
  // of times); on success hands them all to complete().
  core::Result<void> run_transaction(std::vector<std::unique_ptr<WriteOp>>& ops);
  // One attempt; `commit_sent`: the failure came at or after COMMIT, so the
  // outcome may be unknown.
  core::Result<void> try_transaction(std::vector<std::unique_ptr<WriteOp>>& ops, bool& commit_sent);
  // Finishes `ops` (with `failure`, if any) on the completion thread.
  void complete(std::vector<std::unique_ptr<WriteOp>> ops, std::optional<core::Error> failure);

  // Writes committed in one transaction at most: bounds a batch's locks,
  // its memory and the time its first write waits for the commit.
  static constexpr std::size_t kMaxBatch = 4096;
  // Times a batch is run again after a deadlock with another node's batch
  // (40P01) or a serialization failure, before its writes are tried alone.
  static constexpr int kMaxBatchAttempts = 3;

  // A row of writes able to run as one pipeline from ops[from] on (at most
  // kMaxPipeline), with their statements.
  std::size_t pipelined_run(std::vector<std::unique_ptr<WriteOp>>& ops, std::size_t from,
                            std::vector<Statement>& statements,
                            std::vector<PipelinedWrite*>& writes);
  static constexpr std::size_t kMaxPipeline = 1024;

  core::Result<bool> user_exists(Connection& db, const std::string& id);
  // append_message's steps (pg_messages.cpp): where the message goes (its
  // conversation's id; nullopt when nowhere: not found, or a retry whose
  // original the state now holds), and the insert.
  struct AppendState;
  class AppendOp;
  class DeliveredOp;
  core::Result<void> apply_append(Connection& db, AppendState& s);
  // The append's statement when the caches know where it goes.
  std::optional<Statement> pipelined_append(AppendState& s);
  core::Result<void> appended(Connection& db, AppendState& s, std::string conversation_id,
                              Rows& rows);
  core::Result<std::optional<std::string>> destination(Connection& db, AppendState& s);
  core::Result<std::optional<std::string>> direct_destination(Connection& db, AppendState& s);
  // What a message to conversation `id` from `sender` appends to. Not
  // found: `id` is no conversation of the sender's.
  struct SendTarget {
    bool found = false;
    std::string to;      // a direct conversation's other member
    MemberList members;  // a group's, as they will be at the commit
  };
  core::Result<SendTarget> send_target(Connection& db, const std::string& id,
                                       const std::string& sender);
  // A group changed in the open transaction: its members are read again
  // (under the lock this transaction still holds) by the next send to it.
  void group_changed(const std::string& id) { locked_groups_.erase(id); }

  Stats stats_;
  PgOptions options_;
  std::shared_ptr<Backoff> backoff_;  // shared by every connection below
  Connection writer_conn_;            // writer thread only (after open)
  WriterCache cache_;                 // writer thread only
  // The groups whose conversation row the open transaction has locked (FOR
  // UPDATE) to send to them, with their members as read after taking the
  // lock: until the commit no other node can change them, so each is read
  // once per batch, not once per message. Writer thread only; emptied when
  // a transaction begins.
  std::unordered_map<std::string, MemberList> locked_groups_;

  std::mutex write_mutex_;  // guards write_queue_, closing_, closed_
  std::condition_variable write_cv_;
  std::vector<std::unique_ptr<WriteOp>> write_queue_;
  bool closing_ = false;
  bool closed_ = false;
  std::thread writer_;

  std::mutex readers_mutex_;  // guards idle_readers_
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  std::unique_ptr<core::ThreadPool> read_pool_;
  // Runs the callbacks of committed batches, so that the writer thread runs
  // SQL and nothing else.
  std::unique_ptr<core::ThreadPool> completions_;
};

}  // namespace parley::store::pg
