#include "store/sqlite/sqlite_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

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

  std::vector<User> list(UserQuery q) {
    auto r = await<std::vector<User>>(
        [&](Callback<std::vector<User>> cb) { store_->list_users(std::move(q), std::move(cb)); });
    EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
    return r ? *r : std::vector<User>{};
  }

  static std::vector<std::string> names(const std::vector<User>& users) {
    std::vector<std::string> out;
    for (const auto& u : users) out.push_back(u.name);
    return out;
  }

  core::Result<std::optional<User>> by_id(const std::string& id) {
    return await<std::optional<User>>(
        [&](Callback<std::optional<User>> cb) { store_->user_by_id(id, std::move(cb)); });
  }

  core::Result<void> revoke(const std::string& jti, EpochMs expires_at) {
    return await<void>(
        [&](Callback<void> cb) { store_->revoke_token(jti, expires_at, std::move(cb)); });
  }

  core::Result<TokenCheck> check(const std::string& user_id, const std::string& jti) {
    return await<TokenCheck>(
        [&](Callback<TokenCheck> cb) { store_->check_token(user_id, jti, std::move(cb)); });
  }

  core::Result<std::size_t> purge(EpochMs now) {
    return await<std::size_t>(
        [&](Callback<std::size_t> cb) { store_->purge_revocations(now, std::move(cb)); });
  }

  fs::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

// --- users ---------------------------------------------------------------------

TEST_F(SqliteStoreTest, CreateUserReturnsTheUser) {
  const std::string id = core::new_object_id();
  const auto r = create("Alice", "alice@example.com", id, 1'700'000'000'123);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->id, id);
  EXPECT_EQ(r->name, "Alice");
  EXPECT_EQ(r->email, "alice@example.com");
  EXPECT_FALSE(r->avatar.has_value());
  EXPECT_EQ(r->created_at, 1'700'000'000'123);
  EXPECT_FALSE(r->last_seen.has_value());
}

TEST_F(SqliteStoreTest, SameEmailIsAConflict) {
  create_ok("Alice", "alice@example.com");
  const auto r = create("Other Alice", "alice@example.com");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(list({}).size(), 1U);
}

TEST_F(SqliteStoreTest, ConcurrentCreatesWithOneEmailExactlyOneWins) {
  constexpr int kN = 20;
  std::vector<std::future<core::Result<User>>> futures;
  for (int i = 0; i < kN; ++i) {
    auto promise = std::make_shared<std::promise<core::Result<User>>>();
    futures.push_back(promise->get_future());
    store_->create_user(
        NewUser{core::new_object_id(), "Racer " + std::to_string(i), "race@example.com", "h", 1},
        [promise](core::Result<User> r) { promise->set_value(std::move(r)); });
  }
  int ok = 0, conflicts = 0;
  for (auto& f : futures) {
    const auto r = f.get();
    if (r) {
      ++ok;
    } else if (r.error().code == core::ErrorCode::conflict) {
      ++conflicts;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflicts, kN - 1);
}

TEST_F(SqliteStoreTest, FailedWriteDoesNotSinkItsBatch) {
  // Same id, different email: a primary key violation (an internal error),
  // queued between two good writes that may share its batch.
  const std::string id = core::new_object_id();
  std::vector<std::future<core::Result<User>>> futures;
  const std::vector<NewUser> users = {
      {id, "First", "first@example.com", "h", 1},
      {id, "Duplicate id", "dup@example.com", "h", 1},
      {core::new_object_id(), "Third", "third@example.com", "h", 1}};
  for (const auto& u : users) {
    auto promise = std::make_shared<std::promise<core::Result<User>>>();
    futures.push_back(promise->get_future());
    store_->create_user(u, [promise](core::Result<User> r) { promise->set_value(std::move(r)); });
  }
  const auto first = futures[0].get();
  const auto dup = futures[1].get();
  const auto third = futures[2].get();
  EXPECT_TRUE(first.has_value());
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, core::ErrorCode::internal);
  EXPECT_EQ(dup.error().message, "Internal server error");  // backend text only in detail
  EXPECT_FALSE(dup.error().detail.empty());
  EXPECT_TRUE(third.has_value());
  EXPECT_EQ(names(list({})), (std::vector<std::string>{"First", "Third"}));
}

TEST_F(SqliteStoreTest, UserById) {
  const User alice = create_ok("Alice", "alice@example.com");
  const auto found = by_id(alice.id);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, alice.id);
  EXPECT_EQ((*found)->name, "Alice");
  EXPECT_EQ((*found)->email, "alice@example.com");
  EXPECT_EQ((*found)->created_at, 1000);

  const auto missing = by_id(core::new_object_id());
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreTest, CredentialsByEmail) {
  const User alice = create_ok("Alice", "alice@example.com");
  auto r = await<std::optional<Credentials>>([&](Callback<std::optional<Credentials>> cb) {
    store_->credentials_by_email("alice@example.com", std::move(cb));
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->user.id, alice.id);
  EXPECT_EQ((*r)->user.email, "alice@example.com");
  EXPECT_EQ((*r)->password_hash, "$2b$04$hash-of-alice@example.com");

  r = await<std::optional<Credentials>>([&](Callback<std::optional<Credentials>> cb) {
    store_->credentials_by_email("nobody@example.com", std::move(cb));
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
}

TEST_F(SqliteStoreTest, SetLastSeen) {
  const User alice = create_ok("Alice", "alice@example.com");
  const auto r = await<void>([&](Callback<void> cb) {
    store_->set_last_seen(alice.id, 1'700'000'000'999, std::move(cb));
  });
  ASSERT_TRUE(r.has_value());
  const auto found = by_id(alice.id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->last_seen, 1'700'000'000'999);
}

TEST_F(SqliteStoreTest, ListUsersOrdersByNameThenId) {
  const std::string id_a = "000000000000000000000001";
  const std::string id_b = "000000000000000000000002";
  create_ok("bob", "bob@example.com");
  create_ok("Zed", "zed@example.com");
  create_ok("alice", "alice2@example.com", id_b);
  create_ok("alice", "alice1@example.com", id_a);
  create_ok("Alice", "alice0@example.com");
  // Binary order: upper-case before lower-case.
  const auto users = list({});
  EXPECT_EQ(names(users), (std::vector<std::string>{"Alice", "Zed", "alice", "alice", "bob"}));
  ASSERT_EQ(users.size(), 5U);
  EXPECT_EQ(users[2].id, id_a);
  EXPECT_EQ(users[3].id, id_b);
}

TEST_F(SqliteStoreTest, ListUsersPrefixOnNameCaseInsensitive) {
  create_ok("Alice", "a1@example.com");
  create_ok("alfred", "a2@example.com");
  create_ok("ALBERT", "a3@example.com");
  create_ok("Bob", "b@example.com");
  UserQuery q;
  q.prefix = "al";
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"ALBERT", "Alice", "alfred"}));
  q.prefix = "alice";
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"Alice"}));
  q.prefix = "lice";  // a prefix, not a substring
  EXPECT_TRUE(list(q).empty());
}

TEST_F(SqliteStoreTest, ListUsersPrefixOnEmail) {
  create_ok("Zoe", "alpha@example.com");
  create_ok("Yan", "beta@example.com");
  create_ok("Alpine", "x@example.com");
  UserQuery q;
  q.prefix = "alp";
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"Alpine", "Zoe"}));
  q.prefix = "beta@ex";
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"Yan"}));
  q.prefix = "example";  // the domain is not a prefix
  EXPECT_TRUE(list(q).empty());
}

TEST_F(SqliteStoreTest, ListUsersPrefixIsLiteral) {
  create_ok("a_b", "u1@example.com");
  create_ok("axb", "u2@example.com");
  create_ok("100%", "u3@example.com");
  create_ok("1000", "u4@example.com");
  UserQuery q;
  q.prefix = "a_";
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"a_b"}));
  q.prefix = "100%";
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"100%"}));
  q.prefix = "%";
  EXPECT_TRUE(list(q).empty());
}

TEST_F(SqliteStoreTest, ListUsersLimitAndSkip) {
  for (const char* n : {"u1", "u2", "u3", "u4", "u5"}) {
    create_ok(n, std::string(n) + "@example.com");
  }
  UserQuery q;
  q.limit = 2;
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"u1", "u2"}));
  q.skip = 1;
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"u2", "u3"}));
  q.skip = 4;
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"u5"}));
  q.skip = 5;
  EXPECT_TRUE(list(q).empty());
  q = UserQuery{};
  q.limit = 0;
  EXPECT_TRUE(list(q).empty());
  q.limit = 50;
  EXPECT_EQ(list(q).size(), 5U);
}

TEST_F(SqliteStoreTest, ListUsersExcludesTheCaller) {
  const User me = create_ok("Me", "me@example.com");
  create_ok("You", "you@example.com");
  UserQuery q;
  q.exclude_id = me.id;
  EXPECT_EQ(names(list(q)), (std::vector<std::string>{"You"}));
  q.prefix = "me";
  EXPECT_TRUE(list(q).empty());
}

// --- tokens --------------------------------------------------------------------

TEST_F(SqliteStoreTest, RevokeAndCheckToken) {
  const User alice = create_ok("Alice", "alice@example.com");
  auto c = check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->user.has_value());
  EXPECT_EQ(c->user->id, alice.id);
  EXPECT_EQ(c->user->name, "Alice");
  EXPECT_FALSE(c->revoked);

  ASSERT_TRUE(revoke("jti-1", 5000).has_value());
  c = check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->user.has_value());
  EXPECT_TRUE(c->revoked);
  // Other tokens of the same user are untouched.
  c = check(alice.id, "jti-2");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->revoked);
}

TEST_F(SqliteStoreTest, RevokeIsIdempotent) {
  ASSERT_TRUE(revoke("jti-1", 5000).has_value());
  ASSERT_TRUE(revoke("jti-1", 9000).has_value());
  const User alice = create_ok("Alice", "alice@example.com");
  const auto c = check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->revoked);
  // The first expiry stands: purged once 5000 has passed.
  const auto purged = purge(5001);
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, 1U);
}

TEST_F(SqliteStoreTest, CheckTokenForUnknownUser) {
  const auto c = check(core::new_object_id(), "jti-1");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->user.has_value());
}

TEST_F(SqliteStoreTest, PurgeRevocations) {
  const User alice = create_ok("Alice", "alice@example.com");
  ASSERT_TRUE(revoke("a", 100).has_value());
  ASSERT_TRUE(revoke("b", 200).has_value());
  ASSERT_TRUE(revoke("c", 300).has_value());
  auto n = purge(100);  // strictly before now
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0U);
  n = purge(201);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 2U);
  EXPECT_FALSE(check(alice.id, "a")->revoked);
  EXPECT_FALSE(check(alice.id, "b")->revoked);
  EXPECT_TRUE(check(alice.id, "c")->revoked);
  n = purge(1000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 1U);
  n = purge(1000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0U);
}

// --- health, threads, lifecycle ---------------------------------------------------

TEST_F(SqliteStoreTest, Ping) {
  const auto r = await<void>([&](Callback<void> cb) { store_->ping(std::move(cb)); });
  EXPECT_TRUE(r.has_value());
}

TEST_F(SqliteStoreTest, CallbacksRunOnStoreThreads) {
  const auto caller = std::this_thread::get_id();
  std::promise<std::thread::id> write_thread, read_thread;
  store_->create_user(
      NewUser{core::new_object_id(), "T", "t@example.com", "h", 1},
      [&](core::Result<User>) { write_thread.set_value(std::this_thread::get_id()); });
  EXPECT_NE(write_thread.get_future().get(), caller);
  store_->ping([&](core::Result<void>) { read_thread.set_value(std::this_thread::get_id()); });
  EXPECT_NE(read_thread.get_future().get(), caller);
}

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

TEST_F(SqliteStoreTest, ContactsAreTheUsersSharingAConversation) {
  const User a = create_ok("A", "a@example.com");
  const User b = create_ok("B", "b@example.com");
  const User c = create_ok("C", "c@example.com");
  const User d = create_ok("D", "d@example.com");
  auto send = [&](const User& from, const User& to) {
    NewMessage m;
    m.id = core::new_object_id();
    m.from = from.id;
    m.to = to.id;
    m.text = "hi";
    m.created_at = 1000;
    m.new_conversation_id = core::new_object_id();
    auto r = await<Appended>(
        [&](Callback<Appended> cb) { store_->append_message(std::move(m), std::move(cb)); });
    ASSERT_TRUE(r.has_value());
  };
  send(a, b);
  send(b, a);  // the same conversation: B once
  send(c, a);
  auto contacts = [&](const User& u, std::size_t limit = 100) {
    auto r = await<std::vector<std::string>>([&](Callback<std::vector<std::string>> cb) {
      store_->contacts(u.id, limit, std::move(cb));
    });
    EXPECT_TRUE(r.has_value());
    auto ids = r ? *r : std::vector<std::string>{};
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  std::vector<std::string> of_a{b.id, c.id};
  std::sort(of_a.begin(), of_a.end());
  EXPECT_EQ(contacts(a), of_a);
  EXPECT_EQ(contacts(b), std::vector<std::string>{a.id});
  EXPECT_TRUE(contacts(d).empty());
  EXPECT_EQ(contacts(a, 1).size(), 1U);

  // The members of a direct conversation, for its members only.
  auto conversation_of = [&](const User& x, const User& y) {
    auto r = await<std::optional<std::string>>([&](Callback<std::optional<std::string>> cb) {
      store_->conversation_between(x.id, y.id, std::move(cb));
    });
    return r && *r ? **r : std::string();
  };
  using Members = std::optional<std::vector<std::string>>;
  auto members = [&](const User& u, const std::string& conversation) {
    auto r = await<Members>(
        [&](Callback<Members> cb) { store_->members(u.id, conversation, std::move(cb)); });
    EXPECT_TRUE(r.has_value());
    auto ids = r && *r ? **r : std::vector<std::string>{"none"};
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const std::string ab = conversation_of(a, b);
  ASSERT_FALSE(ab.empty());
  std::vector<std::string> pair{a.id, b.id};
  std::sort(pair.begin(), pair.end());
  EXPECT_EQ(members(a, ab), pair);
  EXPECT_EQ(members(b, ab), pair);
  EXPECT_EQ(members(c, ab), std::vector<std::string>{"none"});
  EXPECT_EQ(members(a, core::new_object_id()), std::vector<std::string>{"none"});
}

// --- groups ------------------------------------------------------------------

TEST_F(SqliteStoreTest, AGroupsLifeMembersOwnerAndWhatEachMemberGets) {
  const User a = create_ok("A", "ga@example.com");
  const User b = create_ok("B", "gb@example.com");
  const User c = create_ok("C", "gc@example.com");
  const User d = create_ok("D", "gd@example.com");
  using Update = std::optional<GroupUpdate>;
  auto created = await<GroupUpdate>([&](Callback<GroupUpdate> cb) {
    store_->create_group(NewGroup{core::new_object_id(), a.id, "G", {c.id, b.id}, 5000},
                         std::move(cb));
  });
  ASSERT_TRUE(created.has_value()) << created.error().detail;
  const std::string g = created->conversation.id;
  EXPECT_EQ(created->conversation.type, ConversationType::group);
  EXPECT_EQ(created->conversation.owner_id, a.id);
  EXPECT_EQ(created->conversation.participants, (std::vector<std::string>{a.id, c.id, b.id}));
  EXPECT_EQ(created->audience.size(), 3U);
  EXPECT_EQ(created->conversation.created_at, 5000);

  // An unknown member creates nothing.
  auto unknown = await<GroupUpdate>([&](Callback<GroupUpdate> cb) {
    store_->create_group(NewGroup{core::new_object_id(), a.id, "X", {core::new_object_id()}, 1},
                         std::move(cb));
  });
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::not_found);

  auto append = [&](const User& from, const std::string& conversation) {
    NewMessage m{core::new_object_id(), from.id, "", conversation, "hi", std::nullopt, 1, ""};
    return await<Appended>(
        [&](Callback<Appended> cb) { store_->append_message(std::move(m), std::move(cb)); });
  };
  auto sent = append(b, g);
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(sent->message.in_group);
  EXPECT_TRUE(sent->message.to.empty());
  ASSERT_TRUE(sent->members);
  EXPECT_EQ(*sent->members, (std::vector<std::string>{a.id, c.id, b.id}));
  auto stranger = append(d, g);
  ASSERT_FALSE(stranger.has_value());
  EXPECT_EQ(stranger.error().code, core::ErrorCode::not_found);

  auto change = [&](const User& caller, std::vector<std::string> ids, bool add,
                    std::size_t max = 4) {
    MembersChange ch{caller.id, g, std::move(ids), max};
    return await<Update>([&](Callback<Update> cb) {
      if (add)
        store_->add_members(std::move(ch), std::move(cb));
      else
        store_->remove_member(std::move(ch), std::move(cb));
    });
  };
  // Owner only; the limit counts everyone.
  auto by_b = change(b, {d.id}, true);
  ASSERT_FALSE(by_b.has_value());
  EXPECT_EQ(by_b.error().code, core::ErrorCode::forbidden);
  auto too_many = change(a, {d.id}, true, 3);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code, core::ErrorCode::validation_failed);
  auto added = change(a, {d.id, b.id}, true);
  ASSERT_TRUE(added.has_value() && *added);
  EXPECT_TRUE((*added)->changed);
  EXPECT_EQ((*added)->conversation.participants.back(), d.id);
  // d joined after message 1: nothing pending, nothing unread.
  auto pending_d = await<std::vector<Message>>([&](Callback<std::vector<Message>> cb) {
    store_->pending_deliveries(d.id, std::nullopt, 10, std::move(cb));
  });
  ASSERT_TRUE(pending_d.has_value());
  EXPECT_TRUE(pending_d->empty());
  auto pending_c = await<std::vector<Message>>([&](Callback<std::vector<Message>> cb) {
    store_->pending_deliveries(c.id, std::nullopt, 10, std::move(cb));
  });
  ASSERT_TRUE(pending_c.has_value());
  ASSERT_EQ(pending_c->size(), 1U);
  EXPECT_TRUE(pending_c->front().in_group);
  EXPECT_TRUE(pending_c->front().to.empty());
  auto again = change(a, {d.id}, true);
  ASSERT_TRUE(again.has_value() && *again);
  EXPECT_FALSE((*again)->changed) << "only existing members: no change";

  // A non-owner removing another: forbidden; the owner leaving hands over
  // to the next member in join order (c).
  auto b_removes_c = change(b, {c.id}, false);
  ASSERT_FALSE(b_removes_c.has_value());
  EXPECT_EQ(b_removes_c.error().code, core::ErrorCode::forbidden);
  auto a_leaves = change(a, {a.id}, false);
  ASSERT_TRUE(a_leaves.has_value() && *a_leaves);
  EXPECT_EQ((*a_leaves)->conversation.owner_id, c.id);
  EXPECT_EQ((*a_leaves)->removed, a.id);
  EXPECT_EQ((*a_leaves)->audience.back(), (std::pair<std::string, std::int64_t>{a.id, 0}));
  // a is out: not a member, cannot send, nothing pending.
  auto members_of_a = await<std::optional<std::vector<std::string>>>(
      [&](Callback<std::optional<std::vector<std::string>>> cb) {
        store_->members(a.id, g, std::move(cb));
      });
  ASSERT_TRUE(members_of_a.has_value());
  EXPECT_FALSE(members_of_a->has_value());
  EXPECT_FALSE(append(a, g).has_value());
  auto after = append(c, g);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after->members, (std::vector<std::string>{c.id, b.id, d.id}));
  EXPECT_EQ(after->message.seq, 2);
  // A stranger changes nothing: nullopt (not found).
  auto by_a = change(a, {b.id}, false);
  ASSERT_TRUE(by_a.has_value());
  EXPECT_FALSE(by_a->has_value());
}

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  const User alice = create_ok("Alice", "alice@example.com");
  ASSERT_TRUE(revoke("jti-1", 5000).has_value());
  store_->close();
  store_.reset();
  open_store();  // migrations are not re-applied to a current schema
  const auto c = check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->user.has_value());
  EXPECT_EQ(c->user->email, "alice@example.com");
  EXPECT_TRUE(c->revoked);
}

TEST_F(SqliteStoreTest, OpenFailsOnAnUnusablePath) {
  const fs::path file = dir_ / "plain-file";
  { std::ofstream(file) << "x"; }
  SqliteOptions options;
  options.path = (file / "parley.db").string();  // a file as parent directory
  const auto opened = SqliteStore::open(options);
  EXPECT_FALSE(opened.has_value());
}

TEST_F(SqliteStoreTest, OperationsAfterCloseAreUnavailable) {
  const User alice = create_ok("Alice", "alice@example.com");
  store_->close();
  store_->close();  // idempotent

  auto expect_unavailable = [](const core::Error& e, const char* what) {
    EXPECT_EQ(e.code, core::ErrorCode::unavailable) << what;
  };
  {
    const auto r = create("Bob", "bob@example.com");
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "create_user");
  }
  {
    const auto r = by_id(alice.id);
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "user_by_id");
  }
  {
    const auto r = await<std::optional<Credentials>>([&](Callback<std::optional<Credentials>> cb) {
      store_->credentials_by_email("alice@example.com", std::move(cb));
    });
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "credentials_by_email");
  }
  {
    const auto r = await<std::vector<User>>(
        [&](Callback<std::vector<User>> cb) { store_->list_users({}, std::move(cb)); });
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "list_users");
  }
  {
    const auto r =
        await<void>([&](Callback<void> cb) { store_->set_last_seen(alice.id, 1, std::move(cb)); });
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "set_last_seen");
  }
  {
    const auto r = revoke("jti", 1);
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "revoke_token");
  }
  {
    const auto r = check(alice.id, "jti");
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "check_token");
  }
  {
    const auto r = purge(1);
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "purge_revocations");
  }
  {
    const auto r = await<void>([&](Callback<void> cb) { store_->ping(std::move(cb)); });
    ASSERT_FALSE(r.has_value());
    expect_unavailable(r.error(), "ping");
  }
}

TEST_F(SqliteStoreTest, CloseFinishesQueuedWrites) {
  constexpr int kN = 50;
  std::vector<std::future<core::Result<User>>> futures;
  for (int i = 0; i < kN; ++i) {
    auto promise = std::make_shared<std::promise<core::Result<User>>>();
    futures.push_back(promise->get_future());
    store_->create_user(NewUser{core::new_object_id(), "U" + std::to_string(i),
                                "u" + std::to_string(i) + "@example.com", "h", 1},
                        [promise](core::Result<User> r) { promise->set_value(std::move(r)); });
  }
  store_->close();
  for (auto& f : futures) EXPECT_TRUE(f.get().has_value());
  store_.reset();
  open_store();
  UserQuery q;
  q.limit = 1000;
  EXPECT_EQ(list(q).size(), static_cast<std::size_t>(kN));
}

}  // namespace
}  // namespace parley::store::sqlite
