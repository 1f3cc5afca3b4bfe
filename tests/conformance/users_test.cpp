// Conformance: users and token revocations.
#include <future>
#include <string>
#include <vector>

#include "core/object_id.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {
namespace {

std::vector<std::string> names(const std::vector<User>& users) {
  std::vector<std::string> out;
  for (const auto& u : users) out.push_back(u.name);
  return out;
}

// --- users ---------------------------------------------------------------------

TEST_P(StoreTest, CreateUserReturnsTheUser) {
  const std::string id = core::new_object_id();
  const auto r = client_.create("Alice", "alice@example.com", id, 1'700'000'000'123);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(r->id, id);
  EXPECT_EQ(r->name, "Alice");
  EXPECT_EQ(r->email, "alice@example.com");
  EXPECT_FALSE(r->avatar.has_value());
  EXPECT_EQ(r->created_at, 1'700'000'000'123);
  EXPECT_FALSE(r->last_seen.has_value());
}

TEST_P(StoreTest, SameEmailIsAConflict) {
  client_.create_ok("Alice", "alice@example.com");
  const auto r = client_.create("Other Alice", "alice@example.com");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(client_.list({}).size(), 1U);
}

TEST_P(StoreTest, ConcurrentCreatesWithOneEmailExactlyOneWins) {
  constexpr int kN = 20;
  std::vector<Pending<User>> pending(kN);
  for (int i = 0; i < kN; ++i) {
    store_->create_user(
        NewUser{core::new_object_id(), "Racer " + std::to_string(i), "race@example.com", "h", 1},
        pending[static_cast<std::size_t>(i)].callback());
  }
  int ok = 0, conflicts = 0;
  for (auto& p : pending) {
    const auto r = p.get();
    if (r) {
      ++ok;
    } else if (r.error().code == core::ErrorCode::conflict) {
      ++conflicts;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflicts, kN - 1);
}

TEST_P(StoreTest, FailedWriteDoesNotSinkItsBatch) {
  // Same id, different email: a primary key violation (an internal error),
  // queued between two good writes that may share its batch.
  const std::string id = core::new_object_id();
  const std::vector<NewUser> users = {
      {id, "First", "first@example.com", "h", 1},
      {id, "Duplicate id", "dup@example.com", "h", 1},
      {core::new_object_id(), "Third", "third@example.com", "h", 1}};
  std::vector<Pending<User>> pending(users.size());
  for (std::size_t i = 0; i < users.size(); ++i) {
    store_->create_user(users[i], pending[i].callback());
  }
  const auto first = pending[0].get();
  const auto dup = pending[1].get();
  const auto third = pending[2].get();
  EXPECT_TRUE(first.has_value());
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, core::ErrorCode::internal);
  EXPECT_EQ(dup.error().message, "Internal server error");  // backend text only in detail
  EXPECT_FALSE(dup.error().detail.empty());
  EXPECT_TRUE(third.has_value());
  EXPECT_EQ(names(client_.list({})), (std::vector<std::string>{"First", "Third"}));
}

TEST_P(StoreTest, UserById) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
  const auto found = client_.by_id(alice.id);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, alice.id);
  EXPECT_EQ((*found)->name, "Alice");
  EXPECT_EQ((*found)->email, "alice@example.com");
  EXPECT_EQ((*found)->created_at, 1000);

  const auto missing = client_.by_id(core::new_object_id());
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, CredentialsByEmail) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
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

TEST_P(StoreTest, SetLastSeen) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
  const auto r = await<void>([&](Callback<void> cb) {
    store_->set_last_seen(alice.id, 1'700'000'000'999, std::move(cb));
  });
  ASSERT_TRUE(r.has_value());
  const auto found = client_.by_id(alice.id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->last_seen, 1'700'000'000'999);
}

TEST_P(StoreTest, ListUsersOrdersByNameThenId) {
  const std::string id_a = "000000000000000000000001";
  const std::string id_b = "000000000000000000000002";
  client_.create_ok("bob", "bob@example.com");
  client_.create_ok("Zed", "zed@example.com");
  client_.create_ok("alice", "alice2@example.com", id_b);
  client_.create_ok("alice", "alice1@example.com", id_a);
  client_.create_ok("Alice", "alice0@example.com");
  // Binary order: upper-case before lower-case.
  const auto users = client_.list({});
  EXPECT_EQ(names(users), (std::vector<std::string>{"Alice", "Zed", "alice", "alice", "bob"}));
  ASSERT_EQ(users.size(), 5U);
  EXPECT_EQ(users[2].id, id_a);
  EXPECT_EQ(users[3].id, id_b);
}

TEST_P(StoreTest, ListUsersPrefixOnNameCaseInsensitive) {
  client_.create_ok("Alice", "a1@example.com");
  client_.create_ok("alfred", "a2@example.com");
  client_.create_ok("ALBERT", "a3@example.com");
  client_.create_ok("Bob", "b@example.com");
  UserQuery q;
  q.prefix = "al";
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"ALBERT", "Alice", "alfred"}));
  q.prefix = "alice";
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"Alice"}));
  q.prefix = "lice";  // a prefix, not a substring
  EXPECT_TRUE(client_.list(q).empty());
}

TEST_P(StoreTest, ListUsersPrefixOnEmail) {
  client_.create_ok("Zoe", "alpha@example.com");
  client_.create_ok("Yan", "beta@example.com");
  client_.create_ok("Alpine", "x@example.com");
  UserQuery q;
  q.prefix = "alp";
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"Alpine", "Zoe"}));
  q.prefix = "beta@ex";
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"Yan"}));
  q.prefix = "example";  // the domain is not a prefix
  EXPECT_TRUE(client_.list(q).empty());
}

TEST_P(StoreTest, ListUsersPrefixIsLiteral) {
  client_.create_ok("a_b", "u1@example.com");
  client_.create_ok("axb", "u2@example.com");
  client_.create_ok("100%", "u3@example.com");
  client_.create_ok("1000", "u4@example.com");
  UserQuery q;
  q.prefix = "a_";
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"a_b"}));
  q.prefix = "100%";
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"100%"}));
  q.prefix = "%";
  EXPECT_TRUE(client_.list(q).empty());
}

TEST_P(StoreTest, ListUsersLimitAndSkip) {
  for (const char* n : {"u1", "u2", "u3", "u4", "u5"}) {
    client_.create_ok(n, std::string(n) + "@example.com");
  }
  UserQuery q;
  q.limit = 2;
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"u1", "u2"}));
  q.skip = 1;
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"u2", "u3"}));
  q.skip = 4;
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"u5"}));
  q.skip = 5;
  EXPECT_TRUE(client_.list(q).empty());
  q = UserQuery{};
  q.limit = 0;
  EXPECT_TRUE(client_.list(q).empty());
  q.limit = 50;
  EXPECT_EQ(client_.list(q).size(), 5U);
}

TEST_P(StoreTest, ListUsersExcludesTheCaller) {
  const User me = client_.create_ok("Me", "me@example.com");
  client_.create_ok("You", "you@example.com");
  UserQuery q;
  q.exclude_id = me.id;
  EXPECT_EQ(names(client_.list(q)), (std::vector<std::string>{"You"}));
  q.prefix = "me";
  EXPECT_TRUE(client_.list(q).empty());
}

// --- tokens --------------------------------------------------------------------

TEST_P(StoreTest, RevokeAndCheckToken) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
  auto c = client_.check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->user.has_value());
  EXPECT_EQ(c->user->id, alice.id);
  EXPECT_EQ(c->user->name, "Alice");
  EXPECT_FALSE(c->revoked);

  ASSERT_TRUE(client_.revoke("jti-1", 5000).has_value());
  c = client_.check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->user.has_value());
  EXPECT_TRUE(c->revoked);
  // Other tokens of the same user are untouched.
  c = client_.check(alice.id, "jti-2");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->revoked);
}

TEST_P(StoreTest, RevokeIsIdempotent) {
  ASSERT_TRUE(client_.revoke("jti-1", 5000).has_value());
  ASSERT_TRUE(client_.revoke("jti-1", 9000).has_value());
  const User alice = client_.create_ok("Alice", "alice@example.com");
  const auto c = client_.check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->revoked);
  // The first expiry stands: purged once 5000 has passed.
  const auto purged = client_.purge(5001);
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, 1U);
}

TEST_P(StoreTest, CheckTokenForUnknownUser) {
  const auto c = client_.check(core::new_object_id(), "jti-1");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->user.has_value());
}

TEST_P(StoreTest, PurgeRevocations) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
  ASSERT_TRUE(client_.revoke("a", 100).has_value());
  ASSERT_TRUE(client_.revoke("b", 200).has_value());
  ASSERT_TRUE(client_.revoke("c", 300).has_value());
  auto n = client_.purge(100);  // strictly before now
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0U);
  n = client_.purge(201);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 2U);
  EXPECT_FALSE(client_.check(alice.id, "a")->revoked);
  EXPECT_FALSE(client_.check(alice.id, "b")->revoked);
  EXPECT_TRUE(client_.check(alice.id, "c")->revoked);
  n = client_.purge(1000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 1U);
  n = client_.purge(1000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0U);
}

}  // namespace
}  // namespace parley::store::conformance
