#include "store/group_changes.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace parley::store {

namespace {

core::Error not_a_group() {
  core::Error e = core::Error::validation("conversation", "is not a group");
  e.message = "Only a group conversation has a name and members to change";
  return e;
}

}  // namespace

bool is_member(const std::vector<MemberCursors>& members, const std::string& user_id) {
  return std::any_of(members.begin(), members.end(),
                     [&](const MemberCursors& m) { return m.user_id == user_id; });
}

std::optional<core::Error> rename_refusal(ConversationType type) {
  if (type != ConversationType::group) return not_a_group();
  return std::nullopt;
}

core::Result<Joining> joining(ConversationType type, const std::string& owner_id,
                              const std::vector<MemberCursors>& members,
                              const MembersChange& change, const UserExists& exists) {
  Joining out;
  if (type != ConversationType::group) {
    out.refused = not_a_group();
    return out;
  }
  if (owner_id != change.caller_id) {
    out.refused =
        core::Error::make(core::ErrorCode::forbidden, "Only the group's owner can add members");
    return out;
  }
  for (const auto& id : change.user_ids) {
    auto found = exists(id);
    if (!found) return core::fail(std::move(found.error()));
    if (!*found) {
      out.refused = core::Error::make(core::ErrorCode::not_found, "User not found");
      out.user_ids.clear();
      return out;
    }
    if (!is_member(members, id) &&
        std::find(out.user_ids.begin(), out.user_ids.end(), id) == out.user_ids.end()) {
      out.user_ids.push_back(id);
    }
  }
  if (members.size() + out.user_ids.size() > change.max_members) {
    out.refused = core::Error::validation(
        "userIds", fmt::format("a group has at most {} members", change.max_members));
    out.user_ids.clear();
  }
  return out;
}

std::optional<core::Error> removal_refusal(ConversationType type, const std::string& owner_id,
                                           const std::vector<MemberCursors>& members,
                                           const std::string& caller_id,
                                           const std::string& user_id) {
  if (type != ConversationType::group) return not_a_group();
  if (user_id != caller_id && owner_id != caller_id) {
    return core::Error::make(core::ErrorCode::forbidden,
                             "Only the group's owner can remove another member");
  }
  if (!is_member(members, user_id)) {
    return core::Error::make(core::ErrorCode::not_found, "Member not found");
  }
  return std::nullopt;
}

std::optional<std::string> next_owner(const std::vector<MemberCursors>& members,
                                      const std::string& leaving) {
  for (const auto& m : members) {
    if (m.user_id != leaving) return m.user_id;
  }
  return std::nullopt;
}

}  // namespace parley::store
