#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/utf8.hpp"
#include "obs/log.hpp"
#include "store/sqlite/detail.hpp"
#include "store/sqlite/migrations.hpp"

namespace parley::store::sqlite {

using detail::closed_error;
using detail::db_error;
using detail::kUserColumns;
using detail::read_user;

SqliteStore::SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

tl::expected<std::unique_ptr<SqliteStore>, std::string> SqliteStore::open(
    const SqliteOptions& options) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(options.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec)
      return tl::unexpected(fmt::format("cannot create {}: {}", parent.string(), ec.message()));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  if (auto err = store->writer_conn_.open(options.path, Connection::Mode::writer,
                                          options.synchronous, options.memory)) {
    return tl::unexpected(*err);
  }
  if (auto err = migrate(store->writer_conn_)) return tl::unexpected(*err);
  for (unsigned i = 0; i < std::max(1U, options.readers); ++i) {
    auto conn = std::make_unique<Connection>();
    if (auto err = conn->open(options.path, Connection::Mode::reader, options.synchronous,
                              options.memory)) {
      return tl::unexpected(*err);
    }
    store->idle_readers_.push_back(std::move(conn));
  }
  if (auto err =
          store->checkpoint_conn_.open(options.path, Connection::Mode::checkpointer,
                                       options.synchronous, Connection::Memory{1 << 20, 0})) {
    return tl::unexpected(*err);
  }
  sqlite3_wal_hook(store->writer_conn_.handle(), &SqliteStore::on_wal_commit, store.get());
  store->checkpointer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "db-checkpoint");
    s->checkpoint_loop();
  });
  store->read_pool_ = std::make_unique<core::ThreadPool>("db-read", store->idle_readers_.size());
  store->completions_ = std::make_unique<core::ThreadPool>("db-done", 1);
  store->writer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "db-write");
    s->writer_loop();
  });
  return store;
}

SqliteStore::~SqliteStore() {
  close();
}

void SqliteStore::close() {
  {
    std::lock_guard lock(write_mutex_);
    if (closed_) return;
    closing_ = true;
  }
  write_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_closing_ = true;  // a checkpoint already wanted still runs
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  if (completions_) completions_->stop();  // the last batches' callbacks run
  if (read_pool_) read_pool_->stop();
  std::lock_guard lock(write_mutex_);
  closed_ = true;
}

void SqliteStore::enqueue(std::unique_ptr<WriteOp> op) {
  {
    std::lock_guard lock(write_mutex_);
    if (!closing_) {
      write_queue_.push_back(std::move(op));
      op = nullptr;
    }
  }
  if (op) {
    const core::Error err = closed_error();
    op->finish(&err);
    return;
  }
  write_cv_.notify_one();
}

void SqliteStore::read(ReadOp op) {
  // Posting under write_mutex_ orders it before close() stops the pool, so a
  // read is either run or refused here, never dropped.
  std::unique_lock lock(write_mutex_);
  if (closing_) {
    lock.unlock();
    op(nullptr);
    return;
  }
  read_pool_->post([this, op = std::move(op)] {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard rlock(readers_mutex_);
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
    op(conn.get());
    std::lock_guard rlock(readers_mutex_);
    idle_readers_.push_back(std::move(conn));
  });
}

int SqliteStore::on_wal_commit(void* self, sqlite3* /*db*/, const char* /*name*/, int frames) {
  auto* store = static_cast<SqliteStore*>(self);
  bool wake = false;
  {
    std::lock_guard lock(store->checkpoint_mutex_);
    // Fewer frames than the last checkpoint copied: the WAL was restarted.
    if (frames < store->checkpointed_frames_) store->checkpointed_frames_ = 0;
    const auto since = static_cast<std::size_t>(frames - store->checkpointed_frames_);
    if (since >= store->options_.checkpoint_pages && !store->checkpoint_wanted_) {
      store->checkpoint_wanted_ = true;
      wake = true;
    }
    // The checkpointer has fallen far behind (starved of CPU): the writer
    // checkpoints itself before its next batch, so the WAL stays bounded
    // whatever the scheduling.
    if (since >= kWalBehindFactor * store->options_.checkpoint_pages) {
      store->wal_behind_.store(true, std::memory_order_release);
      store->restart_wanted_.store(true, std::memory_order_release);
    }
  }
  if (wake) store->checkpoint_cv_.notify_one();
  return SQLITE_OK;
}

void SqliteStore::checkpoint_loop() {
  std::unique_lock lock(checkpoint_mutex_);
  for (;;) {
    // Not while the writer has a RESTART to run: a PASSIVE checkpoint
    // running beside it would make it SQLITE_BUSY.
    checkpoint_cv_.wait(lock, [this] {
      return (checkpoint_wanted_ && !restart_wanted_.load(std::memory_order_acquire)) ||
             checkpoint_closing_;
    });
    if (!checkpoint_wanted_) return;  // closing
    checkpoint_running_ = true;
    lock.unlock();
    int log = 0;
    int copied = 0;
    // PASSIVE copies what it can beside the writer. Under steady writes it
    // never catches up with the end of the WAL, and a WAL is only restarted
    // from its beginning after a checkpoint that did: so a RESTART follows
    // (restart_wal()), which holds the writer back only while it copies the
    // few frames committed since, and lets the next commit start the WAL
    // over instead of growing it for ever.
    const int rc = sqlite3_wal_checkpoint_v2(checkpoint_conn_.handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      obs::log(obs::Level::warn, "sqlite checkpoint: {}", checkpoint_conn_.last_error());
    }
    stats_.checkpoints.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    checkpoint_running_ = false;
    checkpoint_wanted_ = false;
    checkpointed_frames_ = std::max(copied, 0);
    // The writer runs the RESTART between two batches: from here it would
    // wait for the writer's lock, which a busy writer takes again at once.
    restart_wanted_.store(true, std::memory_order_release);
    checkpoint_cv_.notify_all();  // a writer far behind waits for this
  }
}

void SqliteStore::restart_wal() {
  if (!restart_wanted_.load(std::memory_order_acquire)) return;
  int log = 0;
  int copied = 0;
  // Without waiting: a reader on older frames makes it SQLITE_BUSY at once
  // (the next checkpoint tries again) rather than stall every write behind
  // the busy handler. Unless the WAL is far behind: then the writer waits
  // (for a slow PASSIVE checkpoint to finish, for readers), holding writes
  // back rather than letting the WAL grow.
  const bool behind = wal_behind_.exchange(false, std::memory_order_acq_rel);
  sqlite3_busy_timeout(writer_conn_.handle(), behind ? kBusyTimeoutMs : 0);
  int rc = sqlite3_wal_checkpoint_v2(writer_conn_.handle(), nullptr, SQLITE_CHECKPOINT_RESTART,
                                     &log, &copied);
  if (rc == SQLITE_BUSY && behind) {
    // A checkpoint in progress (the checkpointer's PASSIVE, slow when
    // starved of CPU) makes a RESTART busy at once, whatever the busy
    // timeout: wait for it to finish, then restart.
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(kBusyTimeoutMs),
                              [this] { return !checkpoint_running_; });
    }
    rc = sqlite3_wal_checkpoint_v2(writer_conn_.handle(), nullptr, SQLITE_CHECKPOINT_RESTART, &log,
                                   &copied);
  }
  sqlite3_busy_timeout(writer_conn_.handle(), kBusyTimeoutMs);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    obs::log(obs::Level::warn, "sqlite checkpoint (restart): {}", writer_conn_.last_error());
  }
  if (rc == SQLITE_OK) stats_.checkpoints.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(checkpoint_mutex_);
    restart_wanted_.store(false, std::memory_order_release);
  }
  checkpoint_cv_.notify_one();  // the checkpointer may go on
}

void SqliteStore::writer_loop() {
  std::vector<std::unique_ptr<WriteOp>> batch;
  for (;;) {
    restart_wal();
    {
      std::unique_lock lock(write_mutex_);
      write_cv_.wait(lock, [this] { return closing_ || !write_queue_.empty(); });
      if (write_queue_.empty()) return;  // closing and drained
      if (write_queue_.size() <= kMaxBatch) {
        batch.swap(write_queue_);
      } else {
        auto split = write_queue_.begin() + static_cast<std::ptrdiff_t>(kMaxBatch);
        batch.assign(std::make_move_iterator(write_queue_.begin()), std::make_move_iterator(split));
        write_queue_.erase(write_queue_.begin(), split);
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

core::Result<void> SqliteStore::run_transaction(std::vector<std::unique_ptr<WriteOp>>& ops) {
  if (auto err = writer_conn_.exec("BEGIN IMMEDIATE")) {
    return core::fail(core::Error::internal("sqlite begin: " + *err));
  }
  auto rollback = [this] {
    writer_conn_.exec("ROLLBACK");
    cache_ = WriterCache{};
  };
  for (auto& op : ops) {
    if (auto r = op->apply(writer_conn_); !r) {
      rollback();
      return r;
    }
  }
  if (auto r = flush_writer_cache(); !r) {
    rollback();
    return r;
  }
  if (auto err = writer_conn_.exec("COMMIT")) {
    rollback();
    return core::fail(core::Error::internal("sqlite commit: " + *err));
  }
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  stats_.writes.fetch_add(ops.size(), std::memory_order_relaxed);
  if (ops.size() > stats_.largest_batch.load(std::memory_order_relaxed)) {
    stats_.largest_batch.store(ops.size(), std::memory_order_relaxed);
  }
  complete(std::move(ops), std::nullopt);
  ops.clear();
  return {};
}

void SqliteStore::complete(std::vector<std::unique_ptr<WriteOp>> ops,
                           std::optional<core::Error> failure) {
  // One hand-off per batch; one completion thread keeps the commit order.
  auto done = std::make_shared<std::vector<std::unique_ptr<WriteOp>>>(std::move(ops));
  completions_->post([done, failure = std::move(failure)] {
    for (auto& op : *done) op->finish(failure ? &*failure : nullptr);
  });
}

void SqliteStore::commit_batch(std::vector<std::unique_ptr<WriteOp>>& batch) {
  if (run_transaction(batch)) return;
  if (batch.size() == 1) {
    // Alone and failed: report it.
    auto r = run_transaction(batch);
    if (!r) complete(std::move(batch), r.error());
    return;
  }
  // One write failed the batch: retry each alone so the others still land.
  std::vector<std::unique_ptr<WriteOp>> single;
  for (auto& op : batch) {
    single.clear();
    single.push_back(std::move(op));
    if (auto r = run_transaction(single); !r) complete(std::move(single), r.error());
  }
}

// --- users ---------------------------------------------------------------

void SqliteStore::create_user(NewUser user, Callback<User> done) {
  struct State {
    NewUser user;
    bool conflict = false;
  };
  write(
      State{std::move(user)},
      [](Connection& db, State& s) -> core::Result<void> {
        auto st = db.prepare(
            "INSERT INTO users (id, name, name_fold, email, password_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING");
        if (!st) return core::fail(db_error(db, "prepare insert user"));
        st->bind(1, s.user.id)
            .bind(2, s.user.name)
            .bind(3, core::ascii_lower(s.user.name))
            .bind(4, s.user.email)
            .bind(5, s.user.password_hash)
            .bind(6, s.user.created_at);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "insert user"));
        s.conflict = db.changes() == 0;
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        if (s.conflict) {
          return done(core::fail(core::ErrorCode::conflict, "Email is already registered"));
        }
        User u;
        u.id = std::move(s.user.id);
        u.name = std::move(s.user.name);
        u.email = std::move(s.user.email);
        u.created_at = s.user.created_at;
        done(std::move(u));
      });
}

void SqliteStore::set_last_seen(std::string user_id, EpochMs at, Callback<void> done) {
  struct State {
    std::string id;
    EpochMs at;
  };
  write(
      State{std::move(user_id), at},
      [](Connection& db, State& s) -> core::Result<void> {
        auto st = db.prepare("UPDATE users SET last_seen = ? WHERE id = ?");
        if (!st) return core::fail(db_error(db, "prepare last_seen"));
        st->bind(1, s.at).bind(2, s.id);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "update last_seen"));
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State&) {
        if (failure) return done(core::fail(*failure));
        done({});
      });
}

void SqliteStore::user_by_id(std::string id, Callback<std::optional<User>> done) {
  read([id = std::move(id), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    static const std::string sql = fmt::format("SELECT {} FROM users WHERE id = ?", kUserColumns);
    auto st = db.prepare(sql.c_str());
    if (!st) return done(core::fail(db_error(db, "prepare user_by_id")));
    st->bind(1, id);
    const int rc = st->step();
    if (rc == SQLITE_ROW) return done(std::optional<User>(read_user(*st)));
    if (rc == SQLITE_DONE) return done(std::optional<User>());
    done(core::fail(db_error(db, "user_by_id")));
  });
}

void SqliteStore::credentials_by_email(std::string email,
                                       Callback<std::optional<Credentials>> done) {
  read([email = std::move(email), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    static const std::string sql =
        fmt::format("SELECT {}, password_hash FROM users WHERE email = ?", kUserColumns);
    auto st = db.prepare(sql.c_str());
    if (!st) return done(core::fail(db_error(db, "prepare credentials")));
    st->bind(1, email);
    const int rc = st->step();
    if (rc == SQLITE_ROW) {
      Credentials c{read_user(*st), st->text(6)};
      return done(std::optional<Credentials>(std::move(c)));
    }
    if (rc == SQLITE_DONE) return done(std::optional<Credentials>());
    done(core::fail(db_error(db, "credentials")));
  });
}

void SqliteStore::list_users(UserQuery query, Callback<std::vector<User>> done) {
  read([q = std::move(query), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    static const std::string sql = fmt::format(
        "SELECT {} FROM users WHERE id <> ?1 AND (?2 = '' OR substr(name_fold, 1, length(?2)) = ?2 "
        "OR substr(email, 1, length(?2)) = ?2) ORDER BY name, id LIMIT ?3 OFFSET ?4",
        kUserColumns);
    auto st = db.prepare(sql.c_str());
    if (!st) return done(core::fail(db_error(db, "prepare list_users")));
    st->bind(1, q.exclude_id)
        .bind(2, q.prefix)
        .bind(3, static_cast<std::int64_t>(q.limit))
        .bind(4, static_cast<std::int64_t>(q.skip));
    std::vector<User> users;
    int rc = 0;
    while ((rc = st->step()) == SQLITE_ROW) users.push_back(read_user(*st));
    if (rc != SQLITE_DONE) return done(core::fail(db_error(db, "list_users")));
    done(std::move(users));
  });
}

// --- tokens --------------------------------------------------------------

void SqliteStore::revoke_token(std::string jti, EpochMs expires_at, Callback<void> done) {
  struct State {
    std::string jti;
    EpochMs expires_at;
  };
  write(
      State{std::move(jti), expires_at},
      [](Connection& db, State& s) -> core::Result<void> {
        auto st = db.prepare(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) "
            "ON CONFLICT (jti) DO NOTHING");
        if (!st) return core::fail(db_error(db, "prepare revoke"));
        st->bind(1, s.jti).bind(2, s.expires_at);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "revoke"));
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State&) {
        if (failure) return done(core::fail(*failure));
        done({});
      });
}

void SqliteStore::check_token(std::string user_id, std::string jti, Callback<TokenCheck> done) {
  read([id = std::move(user_id), jti = std::move(jti), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    static const std::string sql = fmt::format(
        "SELECT {}, EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?2) FROM users WHERE id = ?1",
        kUserColumns);
    auto st = db.prepare(sql.c_str());
    if (!st) return done(core::fail(db_error(db, "prepare check_token")));
    st->bind(1, id).bind(2, jti);
    const int rc = st->step();
    TokenCheck check;
    if (rc == SQLITE_ROW) {
      check.user = read_user(*st);
      check.revoked = st->integer(6) != 0;
    } else if (rc != SQLITE_DONE) {
      return done(core::fail(db_error(db, "check_token")));
    }
    done(std::move(check));
  });
}

void SqliteStore::purge_revocations(EpochMs now, Callback<std::size_t> done) {
  struct State {
    EpochMs now;
    std::size_t deleted = 0;
  };
  write(
      State{now},
      [](Connection& db, State& s) -> core::Result<void> {
        auto st = db.prepare("DELETE FROM revoked_tokens WHERE expires_at < ?");
        if (!st) return core::fail(db_error(db, "prepare purge"));
        st->bind(1, s.now);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "purge"));
        s.deleted = static_cast<std::size_t>(db.changes());
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        done(s.deleted);
      });
}

void SqliteStore::ping(Callback<void> done) {
  read([done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(closed_error()));
    Connection& db = *conn;
    auto st = db.prepare("SELECT count(*) FROM sqlite_schema");
    if (!st || st->step() != SQLITE_ROW) return done(core::fail(db_error(db, "ping")));
    done({});
  });
}

}  // namespace parley::store::sqlite
