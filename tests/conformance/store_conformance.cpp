#include "store_conformance.hpp"

#include <cstdlib>

#include "core/object_id.hpp"

namespace parley::store::conformance {

void backend_unavailable(const std::string& why) {
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    GTEST_FAIL() << why << " (CI=true: a backend that cannot run is a failure)";
  }
  GTEST_SKIP() << why;
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

void StoreTest::SetUp() {
  std::string why;
  db_ = GetParam().make(why);
  if (!db_) return backend_unavailable(why);
  store_ = db_->open();
  ASSERT_TRUE(store_) << "cannot open the store";
  client_.reset(store_.get());
}

void StoreTest::TearDown() {
  if (store_) store_->close();
  store_.reset();
  db_.reset();
}

void StoreTest::reopen() {
  store_->close();
  store_.reset();
  store_ = db_->open();
  ASSERT_TRUE(store_) << "cannot open the store again";
  client_.reset(store_.get());
}

// --- StoreClient ---------------------------------------------------------------

core::Result<User> StoreClient::create(const std::string& name, const std::string& email,
                                       std::string id, EpochMs created_at) {
  if (id.empty()) id = core::new_object_id();
  NewUser u{std::move(id), name, email, "$2b$04$hash-of-" + email, created_at};
  return await<User>([&](Callback<User> cb) { store_->create_user(std::move(u), std::move(cb)); });
}

User StoreClient::create_ok(const std::string& name, const std::string& email, std::string id) {
  auto r = create(name, email, std::move(id));
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  return r ? *r : User{};
}

std::vector<User> StoreClient::list(UserQuery q) {
  auto r = await<std::vector<User>>(
      [&](Callback<std::vector<User>> cb) { store_->list_users(std::move(q), std::move(cb)); });
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  return r ? *r : std::vector<User>{};
}

core::Result<std::optional<User>> StoreClient::by_id(const std::string& id) {
  return await<std::optional<User>>(
      [&](Callback<std::optional<User>> cb) { store_->user_by_id(id, std::move(cb)); });
}

core::Result<void> StoreClient::revoke(const std::string& jti, EpochMs expires_at) {
  return await<void>(
      [&](Callback<void> cb) { store_->revoke_token(jti, expires_at, std::move(cb)); });
}

core::Result<TokenCheck> StoreClient::check(const std::string& user_id, const std::string& jti) {
  return await<TokenCheck>(
      [&](Callback<TokenCheck> cb) { store_->check_token(user_id, jti, std::move(cb)); });
}

core::Result<std::size_t> StoreClient::purge(EpochMs now) {
  return await<std::size_t>(
      [&](Callback<std::size_t> cb) { store_->purge_revocations(now, std::move(cb)); });
}

core::Result<Appended> StoreClient::send(const std::string& from, const std::string& to,
                                         const std::string& text,
                                         std::optional<std::string> temp_id) {
  NewMessage m;
  m.id = core::new_object_id();
  m.from = from;
  m.to = to;
  m.text = text;
  m.temp_id = std::move(temp_id);
  m.created_at = core::now_ms();
  m.new_conversation_id = core::new_object_id();
  return await<Appended>(
      [&](Callback<Appended> cb) { store_->append_message(std::move(m), std::move(cb)); });
}

Message StoreClient::send_ok(const std::string& from, const std::string& to,
                             const std::string& text) {
  auto r = send(from, to, text);
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  return r ? r->message : Message{};
}

core::Result<std::optional<History>> StoreClient::history(HistoryQuery q) {
  return await<std::optional<History>>([&](Callback<std::optional<History>> cb) {
    store_->read_history(std::move(q), std::move(cb));
  });
}

std::vector<std::int64_t> StoreClient::history_seqs(HistoryQuery q) {
  auto r = history(std::move(q));
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  std::vector<std::int64_t> out;
  if (r && *r) {
    for (const auto& m : (*r)->messages) out.push_back(m.seq);
  }
  return out;
}

std::vector<ConversationSummary> StoreClient::conversations(const std::string& user_id) {
  auto r =
      await<std::vector<ConversationSummary>>([&](Callback<std::vector<ConversationSummary>> cb) {
        store_->list_conversations(user_id, std::move(cb));
      });
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  return r ? *r : std::vector<ConversationSummary>{};
}

core::Result<std::optional<ConversationSummary>> StoreClient::conversation(
    const std::string& user_id, const std::string& id) {
  return await<std::optional<ConversationSummary>>(
      [&](Callback<std::optional<ConversationSummary>> cb) {
        store_->conversation(user_id, id, std::move(cb));
      });
}

core::Result<std::optional<ReadOutcome>> StoreClient::read(ReadRequest request) {
  return await<std::optional<ReadOutcome>>([&](Callback<std::optional<ReadOutcome>> cb) {
    store_->mark_read(std::move(request), std::move(cb));
  });
}

core::Result<std::int64_t> StoreClient::delivered(const std::string& conversation_id,
                                                  const std::string& user_id,
                                                  std::int64_t up_to_seq, EpochMs at) {
  return await<std::int64_t>([&](Callback<std::int64_t> cb) {
    store_->mark_delivered(conversation_id, user_id, up_to_seq, at, std::move(cb));
  });
}

std::vector<Message> StoreClient::pending(const std::string& user_id,
                                          std::optional<PendingCursor> after, std::size_t limit) {
  auto r = await<std::vector<Message>>([&](Callback<std::vector<Message>> cb) {
    store_->pending_deliveries(user_id, std::move(after), limit, std::move(cb));
  });
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  return r ? *r : std::vector<Message>{};
}

std::optional<std::string> StoreClient::between(const std::string& a, const std::string& b) {
  auto r = await<std::optional<std::string>>([&](Callback<std::optional<std::string>> cb) {
    store_->conversation_between(a, b, std::move(cb));
  });
  EXPECT_TRUE(r.has_value()) << (r ? std::string() : r.error().detail);
  return r ? *r : std::nullopt;
}

core::Result<std::optional<std::vector<std::string>>> StoreClient::members(
    const std::string& user_id, const std::string& id) {
  using Members = std::optional<std::vector<std::string>>;
  return await<Members>([&](Callback<Members> cb) { store_->members(user_id, id, std::move(cb)); });
}

core::Result<Appended> StoreClient::send_to(const std::string& from,
                                            const std::string& conversation_id,
                                            const std::string& text,
                                            std::optional<std::string> temp_id) {
  NewMessage m;
  m.id = core::new_object_id();
  m.from = from;
  m.conversation_id = conversation_id;
  m.text = text;
  m.temp_id = std::move(temp_id);
  m.created_at = core::now_ms();
  return await<Appended>(
      [&](Callback<Appended> cb) { store_->append_message(std::move(m), std::move(cb)); });
}

core::Result<GroupUpdate> StoreClient::create_group(const std::string& owner_id,
                                                    const std::string& name,
                                                    std::vector<std::string> member_ids,
                                                    EpochMs created_at) {
  NewGroup g{core::new_object_id(), owner_id, name, std::move(member_ids), created_at};
  return await<GroupUpdate>(
      [&](Callback<GroupUpdate> cb) { store_->create_group(std::move(g), std::move(cb)); });
}

core::Result<std::optional<GroupUpdate>> StoreClient::rename(const std::string& caller_id,
                                                             const std::string& id,
                                                             const std::string& name) {
  return await<std::optional<GroupUpdate>>([&](Callback<std::optional<GroupUpdate>> cb) {
    store_->rename_group(caller_id, id, name, std::move(cb));
  });
}

core::Result<std::optional<GroupUpdate>> StoreClient::add_members(const std::string& caller_id,
                                                                  const std::string& id,
                                                                  std::vector<std::string> user_ids,
                                                                  std::size_t max_members) {
  MembersChange change{caller_id, id, std::move(user_ids), max_members};
  return await<std::optional<GroupUpdate>>([&](Callback<std::optional<GroupUpdate>> cb) {
    store_->add_members(std::move(change), std::move(cb));
  });
}

core::Result<std::optional<GroupUpdate>> StoreClient::remove_member(const std::string& caller_id,
                                                                    const std::string& id,
                                                                    const std::string& user_id) {
  MembersChange change{caller_id, id, {user_id}, 256};
  return await<std::optional<GroupUpdate>>([&](Callback<std::optional<GroupUpdate>> cb) {
    store_->remove_member(std::move(change), std::move(cb));
  });
}

core::Result<void> StoreClient::ping() {
  return await<void>([&](Callback<void> cb) { store_->ping(std::move(cb)); });
}

INSTANTIATE_TEST_SUITE_P(Store, StoreTest, ::testing::ValuesIn(all_backends()), backend_name);

}  // namespace parley::store::conformance
