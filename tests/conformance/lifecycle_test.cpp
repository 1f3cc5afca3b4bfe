// Conformance: health, threads, close, durability across a reopen.
#include <string>
#include <thread>
#include <vector>

#include "core/object_id.hpp"
#include "store_conformance.hpp"

namespace parley::store::conformance {
namespace {

TEST_P(StoreTest, Ping) {
  EXPECT_TRUE(client_.ping().has_value());
}

TEST_P(StoreTest, CallbacksRunOnStoreThreads) {
  const auto caller = std::this_thread::get_id();
  Pending<std::thread::id> write_thread, read_thread;
  store_->create_user(
      NewUser{core::new_object_id(), "T", "t@example.com", "h", 1},
      [cb = write_thread.callback()](core::Result<User>) { cb(std::this_thread::get_id()); });
  const auto writer = write_thread.get();
  ASSERT_TRUE(writer.has_value());
  EXPECT_NE(*writer, caller);
  store_->ping(
      [cb = read_thread.callback()](core::Result<void>) { cb(std::this_thread::get_id()); });
  const auto reader = read_thread.get();
  ASSERT_TRUE(reader.has_value());
  EXPECT_NE(*reader, caller);
}

TEST_P(StoreTest, WritesAreDurableAcrossAReopen) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
  const User bob = client_.create_ok("Bob", "bob@example.com");
  ASSERT_TRUE(client_.revoke("jti-1", 5000).has_value());
  const Message m = client_.send_ok(alice.id, bob.id, "kept");
  reopen();  // migrations are not applied again to a current schema
  const auto c = client_.check(alice.id, "jti-1");
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->user.has_value());
  EXPECT_EQ(c->user->email, "alice@example.com");
  EXPECT_TRUE(c->revoked);
  // The conversation goes on where it was.
  const Message next = client_.send_ok(bob.id, alice.id, "after");
  EXPECT_EQ(next.conversation_id, m.conversation_id);
  EXPECT_EQ(next.seq, 2);
}

TEST_P(StoreTest, CloseFinishesQueuedWrites) {
  constexpr std::size_t kN = 50;
  std::vector<Pending<User>> pending(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    store_->create_user(NewUser{core::new_object_id(), "U" + std::to_string(i),
                                "u" + std::to_string(i) + "@example.com", "h", 1},
                        pending[i].callback());
  }
  store_->close();
  // Every callback has run by now: none waits.
  for (auto& p : pending) {
    ASSERT_EQ(p.future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_TRUE(p.get().has_value());
  }
  reopen();
  UserQuery q;
  q.limit = 1000;
  EXPECT_EQ(client_.list(q).size(), kN);
}

TEST_P(StoreTest, OperationsAfterCloseAreUnavailableOnTheCallersThread) {
  const User alice = client_.create_ok("Alice", "alice@example.com");
  store_->close();
  store_->close();  // idempotent

  // Each callback runs before the call returns, on this thread.
  const auto caller = std::this_thread::get_id();
  auto expect_refused = [&](const char* what, auto call) {
    bool ran = false;
    call([&](const core::Error& e) {
      ran = true;
      EXPECT_EQ(e.code, core::ErrorCode::unavailable) << what;
      EXPECT_EQ(std::this_thread::get_id(), caller) << what;
    });
    EXPECT_TRUE(ran) << what;
  };
  auto on_error = [](auto report) {
    return [report](auto r) {
      if (!r) report(r.error());
    };
  };
  Store& s = *store_;
  expect_refused("create_user", [&](auto report) {
    s.create_user(NewUser{core::new_object_id(), "B", "b@example.com", "h", 1}, on_error(report));
  });
  expect_refused("user_by_id", [&](auto report) { s.user_by_id(alice.id, on_error(report)); });
  expect_refused("credentials_by_email",
                 [&](auto report) { s.credentials_by_email(alice.email, on_error(report)); });
  expect_refused("list_users", [&](auto report) { s.list_users({}, on_error(report)); });
  expect_refused("set_last_seen",
                 [&](auto report) { s.set_last_seen(alice.id, 1, on_error(report)); });
  expect_refused("revoke_token", [&](auto report) { s.revoke_token("j", 1, on_error(report)); });
  expect_refused("check_token",
                 [&](auto report) { s.check_token(alice.id, "j", on_error(report)); });
  expect_refused("purge_revocations",
                 [&](auto report) { s.purge_revocations(1, on_error(report)); });
  expect_refused("append_message", [&](auto report) {
    s.append_message(NewMessage{core::new_object_id(), alice.id, alice.id, std::nullopt, "x",
                                std::nullopt, 1, core::new_object_id()},
                     on_error(report));
  });
  expect_refused("read_history", [&](auto report) {
    s.read_history(HistoryQuery{alice.id, alice.id, 50, 0, std::nullopt, std::nullopt},
                   on_error(report));
  });
  expect_refused("list_conversations",
                 [&](auto report) { s.list_conversations(alice.id, on_error(report)); });
  expect_refused("conversation",
                 [&](auto report) { s.conversation(alice.id, "c", on_error(report)); });
  expect_refused("mark_read", [&](auto report) {
    s.mark_read(ReadRequest{alice.id, "c", std::nullopt, 1}, on_error(report));
  });
  expect_refused("mark_delivered",
                 [&](auto report) { s.mark_delivered("c", alice.id, 1, 1, on_error(report)); });
  expect_refused("pending_deliveries", [&](auto report) {
    s.pending_deliveries(alice.id, std::nullopt, 10, on_error(report));
  });
  expect_refused("members", [&](auto report) { s.members(alice.id, "c", on_error(report)); });
  expect_refused("contacts", [&](auto report) { s.contacts(alice.id, 10, on_error(report)); });
  expect_refused("conversation_between",
                 [&](auto report) { s.conversation_between(alice.id, "b", on_error(report)); });
  expect_refused("create_group", [&](auto report) {
    s.create_group(NewGroup{core::new_object_id(), alice.id, "G", {}, 1}, on_error(report));
  });
  expect_refused("rename_group",
                 [&](auto report) { s.rename_group(alice.id, "c", "G", on_error(report)); });
  expect_refused("add_members", [&](auto report) {
    s.add_members(MembersChange{alice.id, "c", {alice.id}, 256}, on_error(report));
  });
  expect_refused("remove_member", [&](auto report) {
    s.remove_member(MembersChange{alice.id, "c", {alice.id}, 256}, on_error(report));
  });
  expect_refused("ping", [&](auto report) { s.ping(on_error(report)); });
}

}  // namespace
}  // namespace parley::store::conformance
