#include "chat/groups.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/object_id.hpp"
#include "core/utf8.hpp"

namespace parley::chat {

namespace {

core::Error conversation_not_found() {
  return core::Error::make(core::ErrorCode::not_found, "Conversation not found");
}

}  // namespace

core::Result<std::string> group_name(const std::optional<std::string>& name) {
  if (!name) return core::fail(core::Error::validation("name", "is required"));
  if (!core::utf8_length(*name)) {
    return core::fail(core::Error::validation("name", "must be valid UTF-8"));
  }
  const std::string_view trimmed = core::trim_unicode(*name);
  const auto chars = core::utf8_length(trimmed);
  if (!chars || *chars < 1 || *chars > Groups::kMaxNameChars) {
    return core::fail(core::Error::validation("name", "must be 1-64 characters"));
  }
  return std::string(trimmed);
}

std::vector<std::string> other_members(const std::string& caller,
                                       const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    if (id == caller || std::find(out.begin(), out.end(), id) != out.end()) continue;
    out.push_back(id);
  }
  return out;
}

Groups::Groups(store::Store& store, std::size_t max_members)
    : store_(store), max_members_(max_members) {}

void Groups::create(CreateGroupRequest req, core::Error prior, Callback<store::GroupUpdate> done) {
  core::Error err = std::move(prior);
  if (!req.type || *req.type != "group") err.add_field("type", "must be \"group\"");
  auto name = group_name(req.name);
  if (!name) err.add_field("name", name.error().fields.front().problem);
  std::vector<std::string> others;
  if (!req.member_ids) {
    err.add_field("memberIds", "is required");
  } else {
    others = other_members(req.caller_id, *req.member_ids);
    if (others.empty() || others.size() > max_members_ - 1) {
      err.add_field("memberIds", fmt::format("must name 1 to {} other users", max_members_ - 1));
    }
  }
  if (!err.fields.empty()) return done(core::fail(std::move(err)));
  // An id that cannot be a user's names no user: as an unknown one.
  for (const auto& id : others) {
    if (!core::is_object_id(id)) {
      return done(core::fail(core::ErrorCode::not_found, "User not found"));
    }
  }
  store::NewGroup g;
  g.id = core::new_object_id();
  g.owner_id = std::move(req.caller_id);
  g.name = std::move(*name);
  g.member_ids = std::move(others);
  g.created_at = core::now_ms();
  store_.create_group(std::move(g),
                      [this, done = std::move(done)](core::Result<store::GroupUpdate> r) {
                        if (!r) return done(core::fail(std::move(r.error())));
                        if (events_) events_->conversation_updated(*r);
                        done(std::move(*r));
                      });
}

Callback<std::optional<store::GroupUpdate>> Groups::finish(Callback<store::GroupUpdate> done) {
  return [this, done = std::move(done)](core::Result<std::optional<store::GroupUpdate>> r) {
    if (!r) return done(core::fail(std::move(r.error())));
    if (!*r) return done(core::fail(conversation_not_found()));
    if ((*r)->changed && events_) events_->conversation_updated(**r);
    done(std::move(**r));
  };
}

void Groups::rename(std::string caller_id, std::string conversation_id,
                    const std::optional<std::string>& name, core::Error prior,
                    Callback<store::GroupUpdate> done) {
  core::Error err = std::move(prior);
  auto trimmed = group_name(name);
  if (!trimmed) err.add_field("name", trimmed.error().fields.front().problem);
  if (!err.fields.empty()) return done(core::fail(std::move(err)));
  if (!core::is_object_id(conversation_id)) return done(core::fail(conversation_not_found()));
  store_.rename_group(std::move(caller_id), std::move(conversation_id), std::move(*trimmed),
                      finish(std::move(done)));
}

void Groups::add_members(std::string caller_id, std::string conversation_id,
                         std::optional<std::vector<std::string>> user_ids, core::Error prior,
                         Callback<store::GroupUpdate> done) {
  core::Error err = std::move(prior);
  if (!user_ids) {
    err.add_field("userIds", "is required");
  } else if (user_ids->empty()) {
    err.add_field("userIds", "must name at least one user");
  }
  std::vector<std::string> distinct;
  if (user_ids) distinct = other_members(std::string(), *user_ids);
  // More distinct users than a group can hold can never join: refused
  // here, before the store's writer looks each of them up.
  if (distinct.size() > max_members_) {
    err.add_field("userIds", fmt::format("a group has at most {} members", max_members_));
  }
  if (!err.fields.empty()) return done(core::fail(std::move(err)));
  if (!core::is_object_id(conversation_id)) return done(core::fail(conversation_not_found()));
  store::MembersChange change;
  change.caller_id = std::move(caller_id);
  change.conversation_id = std::move(conversation_id);
  change.user_ids = std::move(distinct);
  change.max_members = max_members_;
  // Ids that cannot be users' are unknown users (404), which the store
  // reports after the membership and ownership checks.
  store_.add_members(std::move(change), finish(std::move(done)));
}

void Groups::remove_member(std::string caller_id, std::string conversation_id, std::string user_id,
                           Callback<store::GroupUpdate> done) {
  if (!core::is_object_id(conversation_id)) return done(core::fail(conversation_not_found()));
  store::MembersChange change;
  change.caller_id = std::move(caller_id);
  change.conversation_id = std::move(conversation_id);
  change.user_ids.push_back(std::move(user_id));
  change.max_members = max_members_;
  store_.remove_member(std::move(change), finish(std::move(done)));
}

}  // namespace parley::chat
