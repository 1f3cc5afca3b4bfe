// SqliteStore: group conversations (create, rename, add and remove members;
// see the model in store/store.hpp). Each change runs on the writer, in its
// batch transaction, and reads the group back in that transaction for the
// answer and for conversation:updated, so the two always agree.
#include "store/group_changes.hpp"
#include "store/sqlite/conversation_queries.hpp"
#include "store/sqlite/detail.hpp"

namespace parley::store::sqlite {

using detail::db_error;

namespace {

// The group as `viewer` sees it after a change, and whom to tell.
core::Result<GroupUpdate> group_update(Connection& db, const std::string& id,
                                       const std::string& viewer,
                                       const std::optional<std::string>& removed) {
  auto row = conversation_row(db, id);
  if (!row) return core::fail(std::move(row.error()));
  if (!*row) return core::fail(core::Error::internal("group vanished: " + id));
  auto summary = summarize(db, **row, viewer);
  if (!summary) return core::fail(std::move(summary.error()));
  auto cursors = member_cursors(db, id);
  if (!cursors) return core::fail(std::move(cursors.error()));
  GroupUpdate u;
  u.conversation = std::move(*summary);
  for (const auto& member : *cursors) {
    auto unread = unread_count(db, id, member.user_id, member.read_seq);
    if (!unread) return core::fail(std::move(unread.error()));
    if (member.user_id == viewer) u.conversation.unread_count = *unread;
    u.audience.emplace_back(member.user_id, *unread);
  }
  if (removed) u.audience.emplace_back(*removed, 0);
  u.removed = removed;
  return u;
}

core::Result<void> insert_member(Connection& db, const std::string& conversation_id,
                                 const std::string& user_id, std::int64_t position,
                                 std::int64_t joined_seq) {
  // Cursors start at the join: older messages are neither pending nor
  // unread for the new member.
  auto st = db.prepare(
      "INSERT INTO conversation_members "
      "(conversation_id, user_id, delivered_seq, read_seq, position, joined_seq) "
      "VALUES (?1, ?2, ?3, ?3, ?4, ?3)");
  if (!st) return core::fail(db_error(db, "prepare add member"));
  st->bind(1, conversation_id).bind(2, user_id).bind(3, joined_seq).bind(4, position);
  if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "add member"));
  return {};
}

}  // namespace

void SqliteStore::create_group(NewGroup group, Callback<GroupUpdate> done) {
  struct State {
    NewGroup in;
    GroupUpdate out;
    bool unknown_user = false;
  };
  write(
      State{std::move(group), {}, false},
      [this](Connection& db, State& s) -> core::Result<void> {
        s.unknown_user = false;
        for (const auto& id : s.in.member_ids) {
          auto exists = user_exists(db, id);
          if (!exists) return core::fail(std::move(exists.error()));
          if (!*exists) {
            s.unknown_user = true;
            return {};
          }
        }
        auto st = db.prepare(
            "INSERT INTO conversations (id, type, name, owner_id, created_at, updated_at, "
            "last_seq) "
            "VALUES (?1, 'group', ?2, ?3, ?4, ?4, 0)");
        if (!st) return core::fail(db_error(db, "prepare create group"));
        st->bind(1, s.in.id).bind(2, s.in.name).bind(3, s.in.owner_id).bind(4, s.in.created_at);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "create group"));
        st.reset();
        if (auto r = insert_member(db, s.in.id, s.in.owner_id, 0, 0); !r) return r;
        std::int64_t position = 0;
        for (const auto& id : s.in.member_ids) {
          if (auto r = insert_member(db, s.in.id, id, ++position, 0); !r) return r;
        }
        auto u = group_update(db, s.in.id, s.in.owner_id, std::nullopt);
        if (!u) return core::fail(std::move(u.error()));
        s.out = std::move(*u);
        return {};
      },
      [done = std::move(done)](const core::Error* failure, State& s) {
        if (failure) return done(core::fail(*failure));
        if (s.unknown_user) return done(core::fail(core::ErrorCode::not_found, "User not found"));
        done(std::move(s.out));
      });
}

namespace {

// What a change of a group starts from: the group and its members, read
// once the batch's conversation rows are written.
struct GroupChangeState {
  std::string caller_id;
  std::string conversation_id;
  std::optional<GroupUpdate> out;
  std::optional<core::Error> refused;
};

// A group change's conversation and members, read once the batch's
// conversation rows are written.
struct LoadedGroup {
  ConversationRow row;
  std::vector<MemberCursors> members;
};

// The conversation of `s` and its members; nullopt when there is none or
// the caller is no member of it (not found, whatever the change).
core::Result<std::optional<LoadedGroup>> load_group(Connection& db, const GroupChangeState& s) {
  auto row = conversation_row(db, s.conversation_id);
  if (!row) return core::fail(std::move(row.error()));
  auto members = member_cursors(db, s.conversation_id);
  if (!members) return core::fail(std::move(members.error()));
  if (!*row || !is_member(*members, s.caller_id)) return std::optional<LoadedGroup>();
  return std::optional<LoadedGroup>(LoadedGroup{std::move(**row), std::move(*members)});
}

template <typename Done>
auto answer(Done done) {
  return [done = std::move(done)](const core::Error* failure, auto& s) {
    if (failure) return done(core::fail(*failure));
    if (s.refused) return done(core::fail(std::move(*s.refused)));
    done(std::move(s.out));
  };
}

}  // namespace

void SqliteStore::rename_group(std::string caller_id, std::string conversation_id, std::string name,
                               Callback<std::optional<GroupUpdate>> done) {
  struct State : GroupChangeState {
    std::string name;
  };
  State state;
  state.caller_id = std::move(caller_id);
  state.conversation_id = std::move(conversation_id);
  state.name = std::move(name);
  write(
      std::move(state),
      [this](Connection& db, State& s) -> core::Result<void> {
        s.out.reset();
        s.refused.reset();
        if (auto r = flush_writer_cache(); !r) return r;
        auto group = load_group(db, s);
        if (!group) return core::fail(std::move(group.error()));
        if (!*group) return {};
        const ConversationRow* row = &(*group)->row;
        s.refused = rename_refusal(row->type);
        if (s.refused) return {};
        auto st = db.prepare("UPDATE conversations SET name = ? WHERE id = ?");
        if (!st) return core::fail(db_error(db, "prepare rename"));
        st->bind(1, s.name).bind(2, s.conversation_id);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "rename"));
        st.reset();
        auto u = group_update(db, s.conversation_id, s.caller_id, std::nullopt);
        if (!u) return core::fail(std::move(u.error()));
        s.out = std::move(*u);
        return {};
      },
      answer(std::move(done)));
}

void SqliteStore::add_members(MembersChange change, Callback<std::optional<GroupUpdate>> done) {
  struct State : GroupChangeState {
    std::vector<std::string> user_ids;
    std::size_t max_members = 0;
  };
  State state;
  state.caller_id = std::move(change.caller_id);
  state.conversation_id = std::move(change.conversation_id);
  state.user_ids = std::move(change.user_ids);
  state.max_members = change.max_members;
  write(
      std::move(state),
      [this](Connection& db, State& s) -> core::Result<void> {
        s.out.reset();
        s.refused.reset();
        if (auto r = flush_writer_cache(); !r) return r;
        auto group = load_group(db, s);
        if (!group) return core::fail(std::move(group.error()));
        if (!*group) return {};
        const ConversationRow* row = &(*group)->row;
        const std::vector<MemberCursors>* members = &(*group)->members;
        const MembersChange request{s.caller_id, s.conversation_id, s.user_ids, s.max_members};
        auto joins = store::joining(row->type, row->owner_id, *members, request,
                                    [&](const std::string& id) { return user_exists(db, id); });
        if (!joins) return core::fail(std::move(joins.error()));
        s.refused = std::move(joins->refused);
        if (s.refused) return {};
        const std::vector<std::string>& joining = joins->user_ids;
        if (!joining.empty()) {
          std::int64_t position = 0;
          {
            auto st = db.prepare(
                "SELECT coalesce(max(position), 0) FROM conversation_members "
                "WHERE conversation_id = ?");
            if (!st) return core::fail(db_error(db, "prepare position"));
            st->bind(1, s.conversation_id);
            if (st->step() != SQLITE_ROW) return core::fail(db_error(db, "position"));
            position = st->integer(0);
          }
          for (const auto& id : joining) {
            if (auto r = insert_member(db, s.conversation_id, id, ++position, row->last_seq); !r) {
              return r;
            }
          }
          if (auto g = cache_.groups.find(s.conversation_id); g != cache_.groups.end()) {
            g->second.members.reset();
          }
        }
        auto u = group_update(db, s.conversation_id, s.caller_id, std::nullopt);
        if (!u) return core::fail(std::move(u.error()));
        u->changed = !joining.empty();
        s.out = std::move(*u);
        return {};
      },
      answer(std::move(done)));
}

void SqliteStore::remove_member(MembersChange change, Callback<std::optional<GroupUpdate>> done) {
  struct State : GroupChangeState {
    std::string user_id;
  };
  State state;
  state.caller_id = std::move(change.caller_id);
  state.conversation_id = std::move(change.conversation_id);
  state.user_id = change.user_ids.empty() ? std::string() : std::move(change.user_ids.front());
  write(
      std::move(state),
      [this](Connection& db, State& s) -> core::Result<void> {
        s.out.reset();
        s.refused.reset();
        if (auto r = flush_writer_cache(); !r) return r;
        auto group = load_group(db, s);
        if (!group) return core::fail(std::move(group.error()));
        if (!*group) return {};
        const ConversationRow* row = &(*group)->row;
        const std::vector<MemberCursors>* members = &(*group)->members;
        s.refused = removal_refusal(row->type, row->owner_id, *members, s.caller_id, s.user_id);
        if (s.refused) return {};
        auto st = db.prepare(
            "DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?");
        if (!st) return core::fail(db_error(db, "prepare remove member"));
        st->bind(1, s.conversation_id).bind(2, s.user_id);
        if (st->step() != SQLITE_DONE) return core::fail(db_error(db, "remove member"));
        st.reset();
        if (s.user_id == row->owner_id) {
          const std::optional<std::string> next = next_owner(*members, s.user_id);
          auto ost = db.prepare("UPDATE conversations SET owner_id = ? WHERE id = ?");
          if (!ost) return core::fail(db_error(db, "prepare hand over"));
          ost->bind_optional(1, next).bind(2, s.conversation_id);
          if (ost->step() != SQLITE_DONE) return core::fail(db_error(db, "hand over"));
        }
        if (auto g = cache_.groups.find(s.conversation_id); g != cache_.groups.end()) {
          g->second.members.reset();
        }
        auto u = group_update(db, s.conversation_id, s.caller_id, s.user_id);
        if (!u) return core::fail(std::move(u.error()));
        s.out = std::move(*u);
        return {};
      },
      answer(std::move(done)));
}

}  // namespace parley::store::sqlite
