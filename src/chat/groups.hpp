// parley::chat groups: the rules for creating group conversations and
// changing their name and members (contract v1.1). The HTTP routes call
// these; each change that the store commits is told to MessageEvents, which
// sends conversation:updated to every member concerned.
//
// DESIGN
// - Validation here (name, member list, counts), membership and ownership
//   checks in the store's transaction, so a check and the change it allows
//   are one atomic step (two owners removing each other cannot both win).
// - MAX_GROUP_MEMBERS bounds every group: on create here, on add in the
//   store (which knows the current members).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "chat/messenger.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace parley::chat {

// A group's name: trimmed, 1-64 characters; a validation error on `name`
// otherwise.
core::Result<std::string> group_name(const std::optional<std::string>& name);

// The members to add besides `caller`, in the order given: the first of
// duplicates kept, `caller` left out.
std::vector<std::string> other_members(const std::string& caller,
                                       const std::vector<std::string>& ids);

struct CreateGroupRequest {
  std::string caller_id;
  // nullopt: absent from the request.
  std::optional<std::string> type;
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> member_ids;
};

class Groups {
 public:
  static constexpr std::size_t kMaxNameChars = 64;

  // `max_members`: MAX_GROUP_MEMBERS, the owner included.
  Groups(store::Store& store, std::size_t max_members);

  // Start-up, before traffic.
  void set_events(MessageEvents* events) { events_ = events; }
  std::size_t max_members() const { return max_members_; }

  // `prior`: field errors found while decoding the request (wrong types),
  // reported together with these functions' own. Callbacks run on store
  // threads.
  void create(CreateGroupRequest request, core::Error prior, Callback<store::GroupUpdate> done);
  void rename(std::string caller_id, std::string conversation_id,
              const std::optional<std::string>& name, core::Error prior,
              Callback<store::GroupUpdate> done);
  void add_members(std::string caller_id, std::string conversation_id,
                   std::optional<std::vector<std::string>> user_ids, core::Error prior,
                   Callback<store::GroupUpdate> done);
  // The caller leaving (user_id == caller_id) or the owner removing a member.
  void remove_member(std::string caller_id, std::string conversation_id, std::string user_id,
                     Callback<store::GroupUpdate> done);

 private:
  // Answers a store change: not_found for nullopt, the update otherwise,
  // told to MessageEvents when it changed something.
  Callback<std::optional<store::GroupUpdate>> finish(Callback<store::GroupUpdate> done);

  store::Store& store_;
  std::size_t max_members_;
  MessageEvents* events_ = nullptr;
};

}  // namespace parley::chat
