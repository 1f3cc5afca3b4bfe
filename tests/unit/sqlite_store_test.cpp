#include "store/sqlite/sqlite_store.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "core/object_id.hpp"

namespace parley::store::sqlite {
namespace {

namespace fs = std::filesystem;

// Runs one store operation and waits for its callback (on a store thread)
// through a future. `start` receives the callback to hand to the store.
template <typename T, typename Start>
core::Result<T> await(Start start) {
  auto promise = std::make_shared<std::promise<core::Result<T>>>();
  auto future = promise->get_future();
  start([promise](core::Result<T> r) { promise->set_value(std::move(r)); });
  return future.get();
}

// A fresh directory per test, removed afterwards.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("parley-unit-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    open_store();
  }

  void TearDown() override {
    if (store_) store_->close();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open_store(std::size_t checkpoint_pages = 4000) {
    SqliteOptions options;
    options.path = (dir_ / "sub" / "parley.db").string();  // parent is created
    options.synchronous = "normal";
    options.readers = 2;
    options.checkpoint_pages = checkpoint_pages;
    auto opened = SqliteStore::open(options);
    ASSERT_TRUE(opened.has_value()) << opened.error();
    store_ = std::move(*opened);
  }

  core::Result<User> create(const std::string& name, const std::string& email,
                            std::string id = core::new_object_id(), EpochMs created_at = 1000) {
    NewUser u{std::move(id), name, email, "$2b$04$hash-of-" + email, created_at};
    return await<User>(
        [&](Callback<User> cb) { store_->create_user(std::move(u), std::move(cb)); });
  }

  User create_ok(const std::string& name, const std::string& email,
                 std::string id = core::new_object_id()) {
    auto r = create(name, email, std::move(id));
    EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
    return r ? *r : User{};
  }

  core::Result<void> revoke(const std::string& jti, EpochMs expires_at) {
    return await<void>(
        [&](Callback<void> cb) { store_->revoke_token(jti, expires_at, std::move(cb)); });
  }

  fs::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

// What every store promises is checked against SQLite by the conformance
// suite (tests/conformance); here, what only SQLite does: its WAL, its
// checkpoints, its file.

TEST_F(SqliteStoreTest, TheCheckpointerCopiesTheWalInTheBackground) {
  store_->close();
  store_.reset();
  open_store(20);
  // One commit at a time: each appends frames to the WAL, and no commit
  // checkpoints by itself (wal_autocheckpoint is off on the writer).
  for (int i = 0; i < 60; ++i) {
    create_ok("User " + std::to_string(i), "u" + std::to_string(i) + "@example.com");
  }
  // Every write above was acknowledged after its commit's WAL hook asked for
  // a checkpoint; close() runs a checkpoint already asked for.
  store_->close();
  EXPECT_GE(store_->stats().checkpoints.load(), 1U);
  EXPECT_EQ(store_->stats().batches.load(), 60U);
}

TEST_F(SqliteStoreTest, UnderSteadyWritesTheWalStartsOverInsteadOfGrowing) {
  store_->close();
  store_.reset();
  open_store(100);
  // About 3 frames per commit: some 6,000 frames, 24 MB of WAL if it never
  // started over; with a checkpoint every 100 frames it stays near that.
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(revoke("jti-" + std::to_string(i), 5000).has_value());
  }
  const auto wal = fs::file_size(dir_ / "sub" / "parley.db-wal");
  EXPECT_LT(wal, 4U << 20) << "WAL bytes";
  EXPECT_GE(store_->stats().checkpoints.load(), 5U);
}

TEST_F(SqliteStoreTest, OpenFailsOnAnUnusablePath) {
  const fs::path file = dir_ / "plain-file";
  { std::ofstream(file) << "x"; }
  SqliteOptions options;
  options.path = (file / "parley.db").string();  // a file as parent directory
  const auto opened = SqliteStore::open(options);
  EXPECT_FALSE(opened.has_value());
}

}  // namespace
}  // namespace parley::store::sqlite
