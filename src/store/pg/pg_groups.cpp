// PgStore: group conversations (create, rename, add and remove members; see
// the model in store/store.hpp and the checks in store/group_changes.hpp).
// Each change runs on the writer, in its batch transaction, and reads the
// group back in that transaction for the answer and for
// conversation:updated, so the two always agree.
//
// Several nodes: a change first locks the group's conversation row (SELECT
// ... FOR UPDATE), and only then reads its owner and members and checks the
// change against them. A send to the group takes the same row lock before
// it reads the members it goes to (send_target), as does the UPDATE that
// assigns its seq. So on every node the changes and sends of one group run
// one after another, each seeing what the previous one committed (READ
// COMMITTED: every statement after the lock sees the commits before it):
// two owners removing each other cannot both win, concurrent additions
// cannot pass the member limit together, and a send's members are the
// members at its commit. A row lock rather than SERIALIZABLE transactions:
// it is the lock every send already takes for its seq, so groups add no
// lock of their own, and nothing fails to be retried; the cost is that the
// writers of one group take turns, as the writers of a direct conversation
// already do.
#include "store/group_changes.hpp"
#include "store/pg/conversation_queries.hpp"
#include "store/pg/detail.hpp"

namespace parley::store::pg {

namespace {

// The group as `viewer` sees it after a change, and whom to tell.
core::Result<GroupUpdate> group_update(Connection& db, const std::string& id,
                                       const std::string& viewer,
                                       const std::optional<std::string>& removed) {
  auto seen = conversation_seen_by(db, id, viewer);
  if (!seen) return core::fail(std::move(seen.error()));
  if (!*seen) return core::fail(core::Error::internal("group vanished: " + id));
  // Every member's unread count in one statement.
  auto unread = db.query(
      "SELECT p.user_id, (SELECT count(*) FROM messages x WHERE x.conversation_id = "
      "p.conversation_id AND x.seq > p.read_seq AND x.sender_id <> p.user_id) "
      "FROM conversation_members p WHERE p.conversation_id = $1 ORDER BY p.position, p.user_id",
      Params().add(id));
  if (!unread) return core::fail(std::move(unread.error()));
  GroupUpdate u;
  u.conversation = std::move(**seen);
  for (int i = 0; i < unread->size(); ++i) {
    std::string member = unread->text(i, 0);
    const std::int64_t count = unread->integer(i, 1);
    if (member == viewer) u.conversation.unread_count = count;
    u.audience.emplace_back(std::move(member), count);
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
  auto r = db.query(
      "INSERT INTO conversation_members "
      "(conversation_id, user_id, delivered_seq, read_seq, position, joined_seq) "
      "VALUES ($1, $2, $3, $3, $4, $3)",
      Params().add(conversation_id).add(user_id).add(joined_seq).add(position));
  if (!r) return core::fail(std::move(r.error()));
  return {};
}

// A change of an existing group, and its outcome.
struct GroupChange {
  MembersChange change;  // the caller, the group, and for add/remove the users
  std::string name;      // a rename's
  std::optional<GroupUpdate> out;
  std::optional<core::Error> refused;
};

// The group as the change found it, its row locked.
struct LockedGroup {
  LockedConversation row;
  std::vector<MemberCursors> members;  // in join order
};

// apply() for write(): locks the group, reads it, and runs `step` when the
// caller is a member (nullopt otherwise, as for no conversation at all).
template <typename Step>
auto change_of_group(Step step) {
  return [step = std::move(step)](Connection& db, GroupChange& s) -> core::Result<void> {
    s.out.reset();
    s.refused.reset();
    const std::string& id = s.change.conversation_id;
    auto row = lock_conversation(db, id);
    if (!row) return core::fail(std::move(row.error()));
    if (!*row) return {};
    auto found = membership(db, id);  // read after the lock: nobody changes it now
    if (!found) return core::fail(std::move(found.error()));
    if (!*found || !is_member((*found)->members, s.change.caller_id)) return {};
    return step(db, LockedGroup{std::move(**row), std::move((*found)->members)}, s);
  };
}

auto answer(Callback<std::optional<GroupUpdate>> done) {
  return [done = std::move(done)](const core::Error* failure, GroupChange& s) {
    if (failure) return done(core::fail(*failure));
    if (s.refused) return done(core::fail(std::move(*s.refused)));
    done(std::move(s.out));
  };
}

}  // namespace

void PgStore::create_group(NewGroup group, Callback<GroupUpdate> done) {
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
        auto created = db.query(
            "INSERT INTO conversations (id, type, name, owner_id, created_at, updated_at, "
            "last_seq) VALUES ($1, 'group', $2, $3, $4, $4, 0)",
            Params().add(s.in.id).add(s.in.name).add(s.in.owner_id).add(s.in.created_at));
        if (!created) return core::fail(std::move(created.error()));
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

void PgStore::rename_group(std::string caller_id, std::string conversation_id, std::string name,
                           Callback<std::optional<GroupUpdate>> done) {
  GroupChange state;
  state.change.caller_id = std::move(caller_id);
  state.change.conversation_id = std::move(conversation_id);
  state.name = std::move(name);
  write(std::move(state),
        change_of_group(
            [](Connection& db, const LockedGroup& g, GroupChange& s) -> core::Result<void> {
              s.refused = rename_refusal(g.row.type);
              if (s.refused) return {};
              const std::string& id = s.change.conversation_id;
              auto renamed = db.query("UPDATE conversations SET name = $1 WHERE id = $2",
                                      Params().add(s.name).add(id));
              if (!renamed) return core::fail(std::move(renamed.error()));
              auto u = group_update(db, id, s.change.caller_id, std::nullopt);
              if (!u) return core::fail(std::move(u.error()));
              s.out = std::move(*u);
              return {};
            }),
        answer(std::move(done)));
}

void PgStore::add_members(MembersChange change, Callback<std::optional<GroupUpdate>> done) {
  GroupChange state;
  state.change = std::move(change);
  write(std::move(state),
        change_of_group(
            [this](Connection& db, const LockedGroup& g, GroupChange& s) -> core::Result<void> {
              auto joins = joining(g.row.type, g.row.owner_id, g.members, s.change,
                                   [&](const std::string& id) { return user_exists(db, id); });
              if (!joins) return core::fail(std::move(joins.error()));
              s.refused = std::move(joins->refused);
              if (s.refused) return {};
              const std::string& id = s.change.conversation_id;
              if (!joins->user_ids.empty()) {
                auto last = db.query(
                    "SELECT coalesce(max(position), 0) FROM conversation_members "
                    "WHERE conversation_id = $1",
                    Params().add(id));
                if (!last) return core::fail(std::move(last.error()));
                std::int64_t position = last->integer(0, 0);
                for (const auto& user : joins->user_ids) {
                  if (auto r = insert_member(db, id, user, ++position, g.row.last_seq); !r)
                    return r;
                }
                group_changed(id);
              }
              auto u = group_update(db, id, s.change.caller_id, std::nullopt);
              if (!u) return core::fail(std::move(u.error()));
              u->changed = !joins->user_ids.empty();
              s.out = std::move(*u);
              return {};
            }),
        answer(std::move(done)));
}

void PgStore::remove_member(MembersChange change, Callback<std::optional<GroupUpdate>> done) {
  GroupChange state;
  state.change = std::move(change);
  write(std::move(state),
        change_of_group(
            [this](Connection& db, const LockedGroup& g, GroupChange& s) -> core::Result<void> {
              const std::string& id = s.change.conversation_id;
              const std::string user =
                  s.change.user_ids.empty() ? std::string() : s.change.user_ids.front();
              s.refused =
                  removal_refusal(g.row.type, g.row.owner_id, g.members, s.change.caller_id, user);
              if (s.refused) return {};
              auto removed = db.query(
                  "DELETE FROM conversation_members WHERE conversation_id = $1 "
                  "AND user_id = $2",
                  Params().add(id).add(user));
              if (!removed) return core::fail(std::move(removed.error()));
              if (user == g.row.owner_id) {
                auto handed = db.query("UPDATE conversations SET owner_id = $1 WHERE id = $2",
                                       Params().add_optional(next_owner(g.members, user)).add(id));
                if (!handed) return core::fail(std::move(handed.error()));
              }
              group_changed(id);
              auto u = group_update(db, id, s.change.caller_id, user);
              if (!u) return core::fail(std::move(u.error()));
              s.out = std::move(*u);
              return {};
            }),
        answer(std::move(done)));
}

}  // namespace parley::store::pg
