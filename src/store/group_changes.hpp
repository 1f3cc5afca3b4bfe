// parley::store group changes: the checks a change of a group's name or
// members passes, in the order the contract gives them, decided from the
// group as the change's own transaction reads it (so a check and the change
// it allows are one atomic step). Pure: each backend reads the group its
// own way and shares these rules.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/receipts.hpp"
#include "store/store.hpp"

namespace parley::store {

bool is_member(const std::vector<MemberCursors>& members, const std::string& user_id);

// A rename, by a member: refused (validation_failed) for a direct
// conversation.
std::optional<core::Error> rename_refusal(ConversationType type);

// Whether a user exists: the store's lookup, which may fail.
using UserExists = std::function<core::Result<bool>(const std::string& user_id)>;

struct Joining {
  std::optional<core::Error> refused;
  std::vector<std::string> user_ids;  // not members yet, in the order given, once each
};

// An addition of `change.user_ids`, by a member, to a group owned by
// `owner_id` with `members`: refused for a direct conversation
// (validation_failed), by anyone but the owner (forbidden), for a user who
// does not exist (not_found), and beyond `change.max_members` members
// (validation_failed). Fails only when `exists` does.
core::Result<Joining> joining(ConversationType type, const std::string& owner_id,
                              const std::vector<MemberCursors>& members,
                              const MembersChange& change, const UserExists& exists);

// A removal of `user_id` by `caller_id`, a member: refused for a direct
// conversation (validation_failed), when someone else than the owner
// removes another member (forbidden), and for a user who is no member
// (not_found).
std::optional<core::Error> removal_refusal(ConversationType type, const std::string& owner_id,
                                           const std::vector<MemberCursors>& members,
                                           const std::string& caller_id,
                                           const std::string& user_id);

// Who owns the group once its owner `leaving` is gone: the next member in
// join order; nobody once the last member is gone.
std::optional<std::string> next_owner(const std::vector<MemberCursors>& members,
                                      const std::string& leaving);

}  // namespace parley::store
