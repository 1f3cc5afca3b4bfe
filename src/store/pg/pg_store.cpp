#include "store/pg/pg_store.hpp"

#include <pthread.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/utf8.hpp"
#include "store/pg/detail.hpp"
#include "store/pg/migrations.hpp"

namespace parley::store::pg {

using detail::closed_error;
using detail::kUserColumns;
using detail::read_user;

namespace {

// The writer's session: every commit waits for its WAL flush (and for the
// standbys the server's synchronous_standby_names names), whatever the
// server's or the role's default: a write is acknowledged only when durable.
const std::vector<std::string> kWriterSetup = {"SET synchronous_commit = on"};
// Readers cannot write, whatever a bug might ask of them.
const std::vector<std::string> kReaderSetup = {"SET default_transaction_read_only = on"};

}  // namespace

PgStore::PgStore(PgOptions options)
    : options_(std::move(options)),
      backoff_(std::make_shared<Backoff>()),
      writer_conn_(options_.url, kWriterSetup, backoff_) {}

tl::expected<std::unique_ptr<PgStore>, std::string> PgStore::open(const PgOptions& options) {
  std::unique_ptr<PgStore> store(new PgStore(options));
  if (!store->writer_conn_.ensure()) {
    return tl::unexpected("cannot connect to PostgreSQL: " + store->writer_conn_.connect_error());
  }
  if (auto err = migrate(store->writer_conn_)) return tl::unexpected(*err);
  for (unsigned i = 0; i < std::max(1U, options.pool_size); ++i) {
    auto conn = std::make_unique<Connection>(options.url, kReaderSetup, store->backoff_);
    if (!conn->ensure()) {
      return tl::unexpected("cannot connect to PostgreSQL: " + conn->connect_error());
    }
    store->idle_readers_.push_back(std::move(conn));
  }
  store->read_pool_ = std::make_unique<core::ThreadPool>("pg-read", store->idle_readers_.size());
  store->completions_ = std::make_unique<core::ThreadPool>("pg-done", 1);
  store->writer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "pg-write");
    s->writer_loop();
  });
  return store;
}

PgStore::~PgStore() {
  close();
}

void PgStore::close() {
  {
    std::lock_guard lock(write_mutex_);
    if (closed_) return;
    closing_ = true;
  }
  write_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (completions_) completions_->stop();  // the last batches' callbacks run
  if (read_pool_) read_pool_->stop();
  std::lock_guard lock(write_mutex_);
  closed_ = true;
}

void PgStore::enqueue(std::unique_ptr<WriteOp> op) {
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

void PgStore::post_read(std::function<void(Connection*)> job) {
  // Posting under write_mutex_ orders it before close() stops the pool, so a
  // read is either run or refused here, never dropped.
  std::unique_lock lock(write_mutex_);
  if (closing_) {
    lock.unlock();
    job(nullptr);
    return;
  }
  read_pool_->post([this, job = std::move(job)] {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard rlock(readers_mutex_);
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
    job(conn.get());
    std::lock_guard rlock(readers_mutex_);
    idle_readers_.push_back(std::move(conn));
  });
}

void PgStore::writer_loop() {
  std::vector<std::unique_ptr<WriteOp>> batch;
  for (;;) {
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

std::size_t PgStore::pipelined_run(std::vector<std::unique_ptr<WriteOp>>& ops, std::size_t from,
                                   std::vector<Statement>& statements,
                                   std::vector<PipelinedWrite*>& writes) {
  std::size_t next = from;
  while (next < ops.size() && writes.size() < kMaxPipeline) {
    auto* write = dynamic_cast<PipelinedWrite*>(ops[next].get());
    if (write == nullptr) break;
    auto statement = write->statement();
    if (!statement) break;
    statements.push_back(std::move(*statement));
    writes.push_back(write);
    ++next;
  }
  return next;
}

core::Result<void> PgStore::try_transaction(std::vector<std::unique_ptr<WriteOp>>& ops,
                                            bool& commit_sent) {
  commit_sent = false;
  locked_groups_.clear();  // the locks of the last transaction are gone
  auto rollback = [this] {
    (void)writer_conn_.exec("ROLLBACK");
    cache_ = WriterCache{};
  };
  // Writes whose statement the caches can say (a message to a known direct
  // conversation) go in pipelines: one round trip for a row of them, with
  // BEGIN ahead of the first and COMMIT after the last when they end the
  // batch; the others run one statement at a time.
  bool begun = false;
  bool committed = false;
  std::size_t next = 0;
  while (next < ops.size() || !committed) {
    std::vector<Statement> statements;
    std::vector<PipelinedWrite*> writes;
    if (!begun) statements.push_back(Statement{"BEGIN", {}});
    next = pipelined_run(ops, next, statements, writes);
    const bool ends = next == ops.size();
    if (ends) statements.push_back(Statement{"COMMIT", {}});
    if (!begun && writes.empty() && !ends) {
      // Only BEGIN: the next write runs alone.
      if (auto r = writer_conn_.exec("BEGIN"); !r) return r;
    } else if (!statements.empty()) {
      commit_sent = ends;
      auto results = writer_conn_.pipeline(statements);
      if (!results) {
        cache_ = WriterCache{};
        return core::fail(std::move(results.error()));
      }
      for (auto& r : *results) {
        if (!r) {
          rollback();
          return core::fail(std::move(r.error()));
        }
      }
      const std::size_t first = begun ? 0 : 1;
      for (std::size_t i = 0; i < writes.size(); ++i)
        writes[i]->absorb(writer_conn_, *(*results)[first + i]);
      committed = ends;
    }
    begun = true;
    if (next < ops.size() && !committed) {
      // A write the pipeline could not take.
      if (auto r = ops[next]->apply(writer_conn_); !r) {
        rollback();
        return r;
      }
      ++next;
      if (next == ops.size()) {
        commit_sent = true;
        if (auto r = writer_conn_.exec("COMMIT"); !r) {
          cache_ = WriterCache{};
          return r;
        }
        committed = true;
      }
    }
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

core::Result<void> PgStore::run_transaction(std::vector<std::unique_ptr<WriteOp>>& ops) {
  core::Result<void> r;
  for (int attempt = 1; attempt <= kMaxBatchAttempts; ++attempt) {
    bool commit_sent = false;
    r = try_transaction(ops, commit_sent);
    if (r) return r;
    if (retryable_sqlstate(writer_conn_.last_sqlstate())) {
      // Deadlocked with another node's batch (each holds a conversation row
      // the other wants): the server rolled one back; run it again.
      stats_.retried_batches.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // The connection was lost before COMMIT was sent (typically: found dead
    // at BEGIN after a database restart): nothing was committed, so the
    // batch may run again on a new session. Lost at COMMIT: unknown, never
    // run again (it would be a second copy of each message).
    if (r.error().code == core::ErrorCode::unavailable && !commit_sent && writer_conn_.ensure()) {
      continue;
    }
    return r;
  }
  return r;
}

void PgStore::complete(std::vector<std::unique_ptr<WriteOp>> ops,
                       std::optional<core::Error> failure) {
  // One hand-off per batch; one completion thread keeps the commit order.
  auto done = std::make_shared<std::vector<std::unique_ptr<WriteOp>>>(std::move(ops));
  completions_->post([done, failure = std::move(failure)] {
    for (auto& op : *done) op->finish(failure ? &*failure : nullptr);
  });
}

void PgStore::commit_batch(std::vector<std::unique_ptr<WriteOp>>& batch) {
  if (!writer_conn_.ensure()) {
    // Down (and the backoff not yet over): fail at once rather than hold
    // callers for an outage of unknown length.
    complete(std::move(batch), unavailable_error("postgres: " + writer_conn_.connect_error()));
    return;
  }
  auto r = run_transaction(batch);
  if (r) return;
  if (batch.size() == 1 || r.error().code == core::ErrorCode::unavailable) {
    complete(std::move(batch), r.error());
    return;
  }
  // One write failed the batch: run each alone so the others still land.
  std::vector<std::unique_ptr<WriteOp>> single;
  for (auto& op : batch) {
    single.clear();
    single.push_back(std::move(op));
    if (auto one = run_transaction(single); !one) complete(std::move(single), one.error());
  }
}

// --- users ---------------------------------------------------------------

void PgStore::create_user(NewUser user, Callback<User> done) {
  struct State {
    NewUser user;
    bool conflict = false;
  };
  write(
      State{std::move(user)},
      [](Connection& db, State& s) -> core::Result<void> {
        // ON CONFLICT waits for a concurrent insert of the same email (on
        // any node) to commit, then does nothing: exactly one wins.
        auto r = db.query(
            "INSERT INTO users (id, name, name_fold, email, password_hash, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
            Params()
                .add(s.user.id)
                .add(s.user.name)
                .add(core::ascii_lower(s.user.name))
                .add(s.user.email)
                .add(s.user.password_hash)
                .add(s.user.created_at));
        if (!r) return core::fail(std::move(r.error()));
        s.conflict = r->affected() == 0;
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

void PgStore::set_last_seen(std::string user_id, EpochMs at, Callback<void> done) {
  struct State {
    std::string id;
    EpochMs at;
  };
  write(
      State{std::move(user_id), at},
      [](Connection& db, State& s) -> core::Result<void> {
        auto r =
            db.query("UPDATE users SET last_seen = $1 WHERE id = $2", Params().add(s.at).add(s.id));
        if (!r) return core::fail(std::move(r.error()));
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State&) {
        if (failure) return done(core::fail(*failure));
        done({});
      });
}

void PgStore::user_by_id(std::string id, Callback<std::optional<User>> done) {
  read<std::optional<User>>(
      [id = std::move(id)](Connection& db) -> core::Result<std::optional<User>> {
        static const std::string sql =
            fmt::format("SELECT {} FROM users WHERE id = $1", kUserColumns);
        auto rows = db.query(sql, Params().add(id));
        if (!rows) return core::fail(std::move(rows.error()));
        if (rows->size() == 0) return std::optional<User>();
        return std::optional<User>(read_user(*rows, 0));
      },
      std::move(done));
}

void PgStore::credentials_by_email(std::string email, Callback<std::optional<Credentials>> done) {
  read<std::optional<Credentials>>(
      [email = std::move(email)](Connection& db) -> core::Result<std::optional<Credentials>> {
        static const std::string sql =
            fmt::format("SELECT {}, password_hash FROM users WHERE email = $1", kUserColumns);
        auto rows = db.query(sql, Params().add(email));
        if (!rows) return core::fail(std::move(rows.error()));
        if (rows->size() == 0) return std::optional<Credentials>();
        return std::optional<Credentials>(Credentials{read_user(*rows, 0), rows->text(0, 6)});
      },
      std::move(done));
}

void PgStore::list_users(UserQuery query, Callback<std::vector<User>> done) {
  read<std::vector<User>>(
      [q = std::move(query)](Connection& db) -> core::Result<std::vector<User>> {
        // starts_with compares literally (no LIKE wildcards to escape).
        static const std::string sql = fmt::format(
            "SELECT {} FROM users WHERE id <> $1 AND ($2 = '' OR starts_with(name_fold, $2) "
            "OR starts_with(email, $2)) ORDER BY name, id LIMIT $3 OFFSET $4",
            kUserColumns);
        auto rows = db.query(sql, Params()
                                      .add(q.exclude_id)
                                      .add(q.prefix)
                                      .add(static_cast<std::int64_t>(q.limit))
                                      .add(static_cast<std::int64_t>(q.skip)));
        if (!rows) return core::fail(std::move(rows.error()));
        std::vector<User> users;
        users.reserve(static_cast<std::size_t>(rows->size()));
        for (int i = 0; i < rows->size(); ++i) users.push_back(read_user(*rows, i));
        return users;
      },
      std::move(done));
}

// --- tokens --------------------------------------------------------------

void PgStore::revoke_token(std::string jti, EpochMs expires_at, Callback<void> done) {
  struct State {
    std::string jti;
    EpochMs expires_at;
  };
  write(
      State{std::move(jti), expires_at},
      [](Connection& db, State& s) -> core::Result<void> {
        auto r = db.query(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) "
            "ON CONFLICT (jti) DO NOTHING",
            Params().add(s.jti).add(s.expires_at));
        if (!r) return core::fail(std::move(r.error()));
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State&) {
        if (failure) return done(core::fail(*failure));
        done({});
      });
}

void PgStore::check_token(std::string user_id, std::string jti, Callback<TokenCheck> done) {
  read<TokenCheck>(
      [id = std::move(user_id), jti = std::move(jti)](Connection& db) -> core::Result<TokenCheck> {
        static const std::string sql = fmt::format(
            "SELECT {}, EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $2) FROM users "
            "WHERE id = $1",
            kUserColumns);
        auto rows = db.query(sql, Params().add(id).add(jti));
        if (!rows) return core::fail(std::move(rows.error()));
        TokenCheck check;
        if (rows->size() > 0) {
          check.user = read_user(*rows, 0);
          check.revoked = rows->text(0, 6) == "t";
        }
        return check;
      },
      std::move(done));
}

void PgStore::purge_revocations(EpochMs now, Callback<std::size_t> done) {
  struct State {
    EpochMs now;
    std::size_t deleted = 0;
  };
  write(
      State{now},
      [](Connection& db, State& s) -> core::Result<void> {
        auto r = db.query("DELETE FROM revoked_tokens WHERE expires_at < $1", Params().add(s.now));
        if (!r) return core::fail(std::move(r.error()));
        s.deleted = static_cast<std::size_t>(r->affected());
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        done(s.deleted);
      });
}

void PgStore::ping(Callback<void> done) {
  read<void>(
      [](Connection& db) -> core::Result<void> {
        auto r = db.query("SELECT 1");
        if (!r) return core::fail(std::move(r.error()));
        return {};
      },
      std::move(done));
}

}  // namespace parley::store::pg
