// SqliteStore: the Store contract (store/store.hpp) on one SQLite file.
//
// DESIGN
// - One writer thread owns the only write connection. Writes are queued
//   (one lock per push); the writer drains everything queued into one
//   transaction, commits once (one fsync for the batch: group commit), then
//   hands the batch to the completion thread, which runs the callbacks in
//   commit order. Under light load a single write commits at once;
//   under a burst the batch grows by itself, up to kMaxBatch.
// - Reads run on `readers` threads, each job borrowing one of `readers` WAL
//   read connections (query_only), so reads never wait behind the writer.
// - The writer, the readers and the checkpointer are the only threads that
//   touch sqlite3 handles.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
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
#include "store/sqlite/connection.hpp"
#include "store/store.hpp"
#include "store/write_op.hpp"

namespace parley::store::sqlite {

struct SqliteOptions {
  std::string path;
  std::string synchronous = "full";  // full | extra | normal
  unsigned readers = 2;
  Connection::Memory memory;  // per connection (SQLITE_CACHE_MB, SQLITE_MMAP_MB)
  // WAL frames since the last checkpoint that wake the checkpointer
  // (SQLITE_CHECKPOINT_PAGES).
  std::size_t checkpoint_pages = 4000;
};

class SqliteStore final : public Store {
 public:
  // Opens the database, applies migrations and starts the threads.
  // Returns an error text when the database cannot be opened or migrated.
  static tl::expected<std::unique_ptr<SqliteStore>, std::string> open(const SqliteOptions& options);
  ~SqliteStore() override;

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
    std::atomic<std::uint64_t> checkpoints{0};  // WAL checkpoints run (PASSIVE and RESTART)
  };
  const Stats& stats() const { return stats_; }

  // One write inside a batch transaction (store/write_op.hpp).
  using WriteOp = store::WriteOp<Connection>;
  // A read job; called with nullptr when the store is closing.
  using ReadOp = std::function<void(Connection*)>;

 private:
  explicit SqliteStore(SqliteOptions options);
  template <typename State, typename Apply, typename Done>
  void write(State state, Apply apply, Done done);
  void enqueue(std::unique_ptr<WriteOp> op);
  void read(ReadOp op);
  void writer_loop();
  // The writer's WAL hook: after each commit, with the WAL's size in frames.
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);
  void checkpoint_loop();
  // Writer thread, between batches: the RESTART checkpoint the checkpointer
  // asked for, if any.
  void restart_wal();
  void commit_batch(std::vector<std::unique_ptr<WriteOp>>& batch);
  // Runs `ops` in one transaction; on success hands them all to complete().
  core::Result<void> run_transaction(std::vector<std::unique_ptr<WriteOp>>& ops);
  // Finishes `ops` (with `failure`, if any) on the completion thread.
  void complete(std::vector<std::unique_ptr<WriteOp>> ops, std::optional<core::Error> failure);

  static constexpr std::size_t kMaxBatch = 4096;
  // WAL frames past the last checkpoint, in SQLITE_CHECKPOINT_PAGES, at
  // which the writer runs the RESTART checkpoint without waiting for the
  // checkpointer's PASSIVE one.
  static constexpr std::size_t kWalBehindFactor = 4;

  // What the writer knows, so that a send costs the message insert and
  // little else: users known to exist (users are never deleted), each
  // conversation's id and last seq (the writer is the only one that
  // advances it), and each group's members (the writer is the only one that
  // changes them). Conversation rows are updated once per batch, just
  // before the commit. Writer thread only; cleared when a transaction rolls
  // back.
  struct WriterCache {
    struct Conversation {
      std::string id;
      std::int64_t last_seq = 0;
      EpochMs updated_at = 0;
      bool dirty = false;
    };
    struct Group {
      Conversation conversation;
      MemberList members;  // null: read again (the membership changed)
    };
    std::unordered_set<std::string> known_users;
    std::unordered_map<std::string, Conversation> direct;      // by direct key
    std::unordered_map<std::string, std::string> direct_keys;  // direct key by id
    std::unordered_map<std::string, Group> groups;             // by id
    std::vector<Conversation*> dirty;
  };
  // Writes the conversation rows the batch advanced (before its commit, and
  // before a group change reads them).
  core::Result<void> flush_writer_cache();
  // The group `id`, its members read if needed; nullptr when `id` is no
  // group.
  core::Result<WriterCache::Group*> group_entry(Connection& db, const std::string& id);
  // What a message to conversation `id` from `sender` appends to: its cached
  // conversation and, for a group, its members. Null conversation: not a
  // conversation of the sender's.
  struct SendTarget {
    WriterCache::Conversation* conversation = nullptr;
    MemberList members;  // a group's
    std::string to;      // a direct conversation's other member
  };
  core::Result<SendTarget> send_target(Connection& db, const std::string& id,
                                       const std::string& sender, EpochMs now);
  // Counts an appended message into its conversation's cached row.
  void advanced(WriterCache::Conversation& c, const Message& m);
  // The pair's conversation, created when `create_id` is given and none
  // exists; nullptr when none exists and none was created.
  core::Result<WriterCache::Conversation*> direct_conversation(Connection& db, const std::string& a,
                                                               const std::string& b,
                                                               const std::string* create_id,
                                                               EpochMs now);
  core::Result<bool> user_exists(Connection& db, const std::string& id);
  WriterCache cache_;
  Stats stats_;

  SqliteOptions options_;
  Connection writer_conn_;  // writer thread only (after open)

  std::mutex write_mutex_;  // guards write_queue_, closing_
  std::condition_variable write_cv_;
  std::vector<std::unique_ptr<WriteOp>> write_queue_;
  bool closing_ = false;
  std::thread writer_;

  // The checkpointer: SQLite's automatic checkpoint would copy the WAL back
  // into the database on the writer's thread, stalling every commit behind
  // it; here a thread of its own checkpoints once SQLITE_CHECKPOINT_PAGES
  // frames have accumulated: a PASSIVE checkpoint beside the writer, then a
  // short RESTART so that the WAL starts over (see checkpoint_loop). Hot
  // pages are copied once per checkpoint, not once per thousand frames.
  Connection checkpoint_conn_;
  std::thread checkpointer_;
  std::mutex checkpoint_mutex_;  // guards the four below
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_closing_ = false;
  bool checkpoint_running_ = false;  // a PASSIVE checkpoint is copying
  int checkpointed_frames_ = 0;      // WAL frames copied by the last checkpoint
  std::atomic<bool> restart_wanted_{false};
  std::atomic<bool> wal_behind_{false};  // kWalBehindFactor reached

  std::mutex readers_mutex_;  // guards idle_readers_
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  std::unique_ptr<core::ThreadPool> read_pool_;
  // Runs the callbacks of committed batches, so that the writer thread does
  // SQL and nothing else (the fan-out and acks that follow a commit cost
  // more than its inserts).
  std::unique_ptr<core::ThreadPool> completions_;
  bool closed_ = false;
};

}  // namespace parley::store::sqlite
