// What only the PostgreSQL store promises: several nodes (several PgStores)
// on one database, migrations started by several nodes at once, and
// surviving a database restart without being reopened.
#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/object_id.hpp"
#include "pg_test_support.hpp"
#include "store/pg/migrations.hpp"
#include "store/pg/pg_store.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {
namespace {

// Two nodes: two stores on one database.
class PgNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    db_ = postgres_backend().make(why);
    if (!db_) return backend_unavailable(why);
    for (auto& node : nodes_) {
      node = db_->open();
      ASSERT_TRUE(node);
    }
  }
  void TearDown() override {
    for (auto& node : nodes_) {
      if (node) node->close();
      node.reset();
    }
    db_.reset();
  }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Store> nodes_[2];
};

TEST_F(PgNodesTest, SeqIsGaplessAndUniqueAcrossNodes) {
  StoreClient first(nodes_[0].get());
  const User a = first.create_ok("A", "a@example.com");
  const User b = first.create_ok("B", "b@example.com");
  // No conversation yet: both nodes race to create it with their first
  // messages, then keep appending to it.
  constexpr int kThreadsPerNode = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<Appended>> results(2 * kThreadsPerNode);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    threads.emplace_back([&, t] {
      Store& node = *nodes_[t % 2];
      const User& from = (t / 2) % 2 ? a : b;
      const User& to = (t / 2) % 2 ? b : a;
      std::vector<Pending<Appended>> pending(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        node.append_message(NewMessage{core::new_object_id(), from.id, to.id, std::nullopt, "m",
                                       std::nullopt, core::now_ms(), core::new_object_id()},
                            pending[static_cast<std::size_t>(i)].callback());
      }
      for (auto& p : pending) {
        auto r = p.get();
        EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
        if (r) results[static_cast<std::size_t>(t)].push_back(std::move(*r));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> conversations;
  std::vector<std::int64_t> all;
  for (const auto& per_thread : results) {
    std::int64_t last = 0;
    for (const auto& r : per_thread) {
      conversations.insert(r.message.conversation_id);
      all.push_back(r.message.seq);
      EXPECT_GT(r.message.seq, last) << "a sender's order was not kept";
      last = r.message.seq;
    }
  }
  EXPECT_EQ(conversations.size(), 1U) << "the pair's conversation was created twice";
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(2 * kThreadsPerNode * kPerThread);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(all, expected);
  StoreClient second(nodes_[1].get());
  EXPECT_EQ(second.between(a.id, b.id), first.between(b.id, a.id));
}

TEST_F(PgNodesTest, SendsToOneGroupFromTwoNodesGetOneGaplessSeq) {
  StoreClient first(nodes_[0].get());
  const User a = first.create_ok("A", "a@example.com");
  const User b = first.create_ok("B", "b@example.com");
  const User c = first.create_ok("C", "c@example.com");
  const auto group = first.create_group(a.id, "G", {b.id, c.id});
  ASSERT_TRUE(group.has_value()) << group.error().detail;
  const std::string g = group->conversation.id;
  const std::vector<std::string> members{a.id, b.id, c.id};
  constexpr int kThreadsPerNode = 3;
  constexpr int kPerThread = 50;
  std::vector<std::vector<Appended>> results(2 * kThreadsPerNode);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    threads.emplace_back([&, t] {
      Store& node = *nodes_[t % 2];
      const std::string& from = members[static_cast<std::size_t>(t / 2)];
      std::vector<Pending<Appended>> pending(kPerThread);
      for (auto& p : pending) {
        NewMessage m;
        m.id = core::new_object_id();
        m.from = from;
        m.conversation_id = g;
        m.text = "m";
        m.created_at = core::now_ms();
        node.append_message(std::move(m), p.callback());
      }
      for (auto& p : pending) {
        auto r = p.get();
        EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
        if (r) results[static_cast<std::size_t>(t)].push_back(std::move(*r));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::int64_t> all;
  for (const auto& per_thread : results) {
    std::int64_t last = 0;
    for (const auto& r : per_thread) {
      all.push_back(r.message.seq);
      EXPECT_GT(r.message.seq, last) << "a sender's order was not kept";
      last = r.message.seq;
      EXPECT_TRUE(r.message.in_group);
      ASSERT_TRUE(r.members);
      EXPECT_EQ(*r.members, members);
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(2 * kThreadsPerNode * kPerThread);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(all, expected);
}

TEST_F(PgNodesTest, AdditionsOnTwoNodesAtOnceStayWithinTheLimit) {
  StoreClient first(nodes_[0].get());
  const User owner = first.create_ok("O", "o@example.com");
  const User member = first.create_ok("M", "m@example.com");
  const auto group = first.create_group(owner.id, "G", {member.id});
  ASSERT_TRUE(group.has_value()) << group.error().detail;
  const std::string g = group->conversation.id;
  // Room for one more: of the additions racing on both nodes, one wins and
  // the others find the group full, whatever the interleaving.
  constexpr std::size_t kPerNode = 5;
  constexpr std::size_t kMax = 3;
  std::vector<User> joiners;
  for (std::size_t i = 0; i < 2 * kPerNode; ++i) {
    joiners.push_back(
        first.create_ok("J" + std::to_string(i), "j" + std::to_string(i) + "@example.com"));
  }
  std::vector<Pending<std::optional<GroupUpdate>>> pending(joiners.size());
  for (std::size_t i = 0; i < joiners.size(); ++i) {
    nodes_[i % 2]->add_members(MembersChange{owner.id, g, {joiners[i].id}, kMax},
                               pending[i].callback());
  }
  int added = 0, full = 0;
  for (auto& p : pending) {
    const auto r = p.get();
    if (r && *r) ++added;
    if (!r && r.error().code == core::ErrorCode::validation_failed) ++full;
  }
  EXPECT_EQ(added, 1);
  EXPECT_EQ(full, static_cast<int>(joiners.size()) - 1);
  StoreClient second(nodes_[1].get());
  const auto members = second.members(owner.id, g);
  ASSERT_TRUE(members.has_value() && members->has_value());
  EXPECT_EQ((*members)->size(), kMax);
}

TEST_F(PgNodesTest, ATempIdRacedOnTwoNodesIsStoredOnce) {
  StoreClient first(nodes_[0].get());
  const User a = first.create_ok("A", "a@example.com");
  const User b = first.create_ok("B", "b@example.com");
  constexpr std::size_t kTriesPerNode = 10;
  std::vector<Pending<Appended>> pending(2 * kTriesPerNode);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    nodes_[i % 2]->append_message(NewMessage{core::new_object_id(), a.id, b.id, std::nullopt,
                                             "once", "t-x", core::now_ms(), core::new_object_id()},
                                  pending[i].callback());
  }
  std::set<std::string> ids;
  int originals = 0;
  for (auto& p : pending) {
    const auto r = p.get();
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    ids.insert(r->message.id);
    originals += r->duplicate ? 0 : 1;
    EXPECT_EQ(r->message.seq, 1);
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(ids.size(), 1U);
}

TEST_F(PgNodesTest, ConcurrentEmailsAcrossNodesExactlyOneWins) {
  constexpr std::size_t kPerNode = 10;
  std::vector<Pending<User>> pending(2 * kPerNode);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    nodes_[i % 2]->create_user(
        NewUser{core::new_object_id(), "R" + std::to_string(i), "race@example.com", "h", 1},
        pending[i].callback());
  }
  int ok = 0, conflicts = 0;
  for (auto& p : pending) {
    const auto r = p.get();
    ok += r ? 1 : 0;
    conflicts += !r && r.error().code == core::ErrorCode::conflict ? 1 : 0;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(conflicts, static_cast<int>(pending.size()) - 1);
}

TEST_F(PgNodesTest, DeliveredCursorAdvancesAcrossNodesReportEachPreviousOnce) {
  StoreClient first(nodes_[0].get());
  const User a = first.create_ok("A", "a@example.com");
  const User b = first.create_ok("B", "b@example.com");
  Message last;
  for (int i = 0; i < 20; ++i) last = first.send_ok(a.id, b.id, "m");
  // Both nodes advance b's cursor to 1..20 at once: each advance reports
  // the cursor it moved from, so the moves tile (0, 20] exactly.
  std::vector<Pending<std::int64_t>> pending(20);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    nodes_[i % 2]->mark_delivered(last.conversation_id, b.id, static_cast<std::int64_t>(i) + 1,
                                  1000, pending[i].callback());
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> moves;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const auto before = pending[i].get();
    ASSERT_TRUE(before.has_value());
    const auto to = static_cast<std::int64_t>(i) + 1;
    if (*before < to) moves.emplace_back(*before, to);
  }
  std::sort(moves.begin(), moves.end());
  std::int64_t at = 0;
  for (const auto& [from, to] : moves) {
    EXPECT_EQ(from, at) << "moves overlap or leave a gap";
    at = to;
  }
  EXPECT_EQ(at, 20);
}

TEST(PgMigrations, SeveralNodesStartingAtOnceMigrateOnce) {
  std::string why;
  auto db = postgres_backend().make(why);
  if (!db) return backend_unavailable(why);
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<Store>> stores(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] { stores[static_cast<std::size_t>(i)] = db->open(); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : stores) EXPECT_TRUE(s) << "a node failed to start";
  StoreClient client(stores[1].get());
  EXPECT_TRUE(client.ping().has_value());
  client.create_ok("A", "a@example.com");
  for (auto& s : stores) {
    if (s) s->close();
  }
}

// The database restarts under a running store.
class PgRestartTest : public ::testing::Test {
 protected:
  // Waits until a read (ping) and a write (set_last_seen) both succeed,
  // trying again after each failure, for at most kRecoveryTimeout (the
  // reconnection backoff is at most pg::Backoff::kMax between attempts).
  bool wait_until_serving(const std::string& user_id) {
    const auto deadline = std::chrono::steady_clock::now() + kRecoveryTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (client_.ping() && await<void>([&](Callback<void> cb) {
            store_->set_last_seen(user_id, 1, std::move(cb));
          })) {
        return true;
      }
      std::this_thread::sleep_for(kRetryPause);
    }
    return false;
  }

  static constexpr std::chrono::seconds kRecoveryTimeout{30};
  static constexpr std::chrono::milliseconds kRetryPause{20};
  Store* store_ = nullptr;
  StoreClient client_{nullptr};
};

TEST_F(PgRestartTest, OperationsFailUnavailableWhileDownAndServeAgainAfter) {
  if (!test_pg_url()) return backend_unavailable("PARLEY_TEST_PG_URL is not set");
  PrivatePgServer server("restart");
  ASSERT_TRUE(server.start()) << "cannot start a private PostgreSQL server";
  auto opened = pg::PgStore::open({server.url(), 2});
  ASSERT_TRUE(opened.has_value()) << opened.error();
  std::unique_ptr<pg::PgStore> store = std::move(*opened);
  store_ = store.get();
  client_.reset(store_);
  const User a = client_.create_ok("A", "a@example.com");
  const User b = client_.create_ok("B", "b@example.com");
  const Message before = client_.send_ok(a.id, b.id, "before");

  ASSERT_TRUE(server.stop());
  // Reads, writes and ping fail with unavailable (never hang, never
  // internal), again and again while it is down.
  for (int round = 0; round < 3; ++round) {
    auto created = client_.create("C", "c" + std::to_string(round) + "@example.com");
    ASSERT_FALSE(created.has_value());
    EXPECT_EQ(created.error().code, core::ErrorCode::unavailable) << created.error().detail;
    EXPECT_EQ(created.error().message, "Service unavailable");
    auto sent = client_.send(a.id, b.id, "while down");
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().code, core::ErrorCode::unavailable) << sent.error().detail;
    auto found = client_.by_id(a.id);
    ASSERT_FALSE(found.has_value());
    EXPECT_EQ(found.error().code, core::ErrorCode::unavailable) << found.error().detail;
    auto ping = client_.ping();
    ASSERT_FALSE(ping.has_value());
    EXPECT_EQ(ping.error().code, core::ErrorCode::unavailable);
  }

  ASSERT_TRUE(server.restart());
  ASSERT_TRUE(wait_until_serving(a.id)) << "the store did not reconnect";
  // Writes too, without reopening; what was acknowledged is there.
  const Message after = client_.send_ok(b.id, a.id, "after");
  EXPECT_EQ(after.conversation_id, before.conversation_id);
  EXPECT_EQ(after.seq, 2);
  const auto found = client_.by_id(a.id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  client_.create_ok("C", "c@example.com");
  store->close();
}

}  // namespace
}  // namespace parley::store::conformance
