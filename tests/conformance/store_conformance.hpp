// The store conformance suite: the whole store::Store contract
// (store/store.hpp), one set of tests run against every implementation
// through a factory (Backend). Each test gets a fresh, empty database.
//
// PostgreSQL runs against the private server the ctest fixture
// (pg.server.start) starts (tests/conformance/pg_test_server.sh), whose URL comes
// in PARLEY_TEST_PG_URL. Without it the PostgreSQL cases are skipped with a
// message, or fail when CI=true: CI never passes without them.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/store.hpp"

namespace parley::store::conformance {

// How long a test waits for one callback before failing (the contract:
// every operation calls back exactly once).
inline constexpr std::chrono::seconds kCallbackTimeout{30};

// A database for one test, and the stores opened on it.
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  // Opens a store on this database (again after close(): the data stays).
  // Returns nullptr after reporting a test failure.
  virtual std::unique_ptr<Store> open() = 0;
  // Whether several stores may be open on it at once (several nodes).
  virtual bool shared_by_nodes() const = 0;
};

struct Backend {
  std::string name;
  // A fresh, empty database; nullptr with `why` set when this backend cannot
  // run here.
  std::function<std::unique_ptr<TestDatabase>(std::string& why)> make;
};

// Test names show the backend's name, not its bytes.
inline void PrintTo(const Backend& backend, std::ostream* os) {
  *os << backend.name;
}

// Every implementation (backends.cpp).
std::vector<Backend> all_backends();

// The PostgreSQL backend alone, for the tests of what only it promises
// (several nodes on one database).
Backend postgres_backend();

// Skips (or, with CI=true, fails) the current test for `why`.
void backend_unavailable(const std::string& why);

// Runs one store operation and waits for its callback, for at most
// kCallbackTimeout. `start` receives the callback to hand to the store.
template <typename T, typename Start>
core::Result<T> await(Start start) {
  auto promise = std::make_shared<std::promise<core::Result<T>>>();
  auto future = promise->get_future();
  start([promise](core::Result<T> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(kCallbackTimeout) != std::future_status::ready) {
    ADD_FAILURE() << "no callback within " << kCallbackTimeout.count() << " s";
    return core::fail(core::Error::internal("timed out waiting for the store"));
  }
  return future.get();
}

// A callback for the store and the future it fulfils, for tests that issue
// many operations before waiting for any.
template <typename T>
struct Pending {
  std::shared_ptr<std::promise<core::Result<T>>> promise =
      std::make_shared<std::promise<core::Result<T>>>();
  std::future<core::Result<T>> future = promise->get_future();

  Callback<T> callback() const {
    return [p = promise](core::Result<T> r) { p->set_value(std::move(r)); };
  }
  // The result, waiting kCallbackTimeout at most.
  core::Result<T> get() {
    if (future.wait_for(kCallbackTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "no callback within " << kCallbackTimeout.count() << " s";
      return core::fail(core::Error::internal("timed out waiting for the store"));
    }
    return future.get();
  }
};

// Blocking helpers over one store, failing the test on unexpected errors.
class StoreClient {
 public:
  explicit StoreClient(Store* store) : store_(store) {}
  void reset(Store* store) { store_ = store; }

  core::Result<User> create(const std::string& name, const std::string& email, std::string id = {},
                            EpochMs created_at = 1000);
  User create_ok(const std::string& name, const std::string& email, std::string id = {});
  std::vector<User> list(UserQuery q);
  core::Result<std::optional<User>> by_id(const std::string& id);
  core::Result<void> revoke(const std::string& jti, EpochMs expires_at);
  core::Result<TokenCheck> check(const std::string& user_id, const std::string& jti);
  core::Result<std::size_t> purge(EpochMs now);

  core::Result<Appended> send(const std::string& from, const std::string& to,
                              const std::string& text,
                              std::optional<std::string> temp_id = std::nullopt);
  Message send_ok(const std::string& from, const std::string& to, const std::string& text);
  core::Result<std::optional<History>> history(HistoryQuery q);
  std::vector<std::int64_t> history_seqs(HistoryQuery q);
  std::vector<ConversationSummary> conversations(const std::string& user_id);
  core::Result<std::optional<ConversationSummary>> conversation(const std::string& user_id,
                                                                const std::string& id);
  core::Result<std::optional<ReadOutcome>> read(ReadRequest request);
  core::Result<std::int64_t> delivered(const std::string& conversation_id,
                                       const std::string& user_id, std::int64_t up_to_seq,
                                       EpochMs at);
  std::vector<Message> pending(const std::string& user_id, std::optional<PendingCursor> after,
                               std::size_t limit);
  std::optional<std::string> between(const std::string& a, const std::string& b);
  core::Result<std::optional<std::vector<std::string>>> members(const std::string& user_id,
                                                                const std::string& id);
  core::Result<void> ping();

  // Groups.
  core::Result<Appended> send_to(const std::string& from, const std::string& conversation_id,
                                 const std::string& text,
                                 std::optional<std::string> temp_id = std::nullopt);
  core::Result<GroupUpdate> create_group(const std::string& owner_id, const std::string& name,
                                         std::vector<std::string> member_ids,
                                         EpochMs created_at = 5000);
  core::Result<std::optional<GroupUpdate>> rename(const std::string& caller_id,
                                                  const std::string& id, const std::string& name);
  core::Result<std::optional<GroupUpdate>> add_members(const std::string& caller_id,
                                                       const std::string& id,
                                                       std::vector<std::string> user_ids,
                                                       std::size_t max_members = 256);
  core::Result<std::optional<GroupUpdate>> remove_member(const std::string& caller_id,
                                                         const std::string& id,
                                                         const std::string& user_id);

 private:
  Store* store_;
};

// A fresh database and one store on it per test.
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Closes the store and opens a new one on the same database.
  void reopen();

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> store_;
  StoreClient client_{nullptr};
};

std::string backend_name(const ::testing::TestParamInfo<Backend>& info);

}  // namespace parley::store::conformance
