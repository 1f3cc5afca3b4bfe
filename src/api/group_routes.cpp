// POST /api/conversations, PATCH /api/conversations/:id,
// POST /api/conversations/:id/members,
// DELETE /api/conversations/:id/members/:userId (contract v1.1 groups).
#include "api/api.hpp"
#include "api/json.hpp"

namespace parley::api {

namespace {

// The group as the caller sees it.
chat::Callback<store::GroupUpdate> answer_group(const http::Reply& rep, int status,
                                                const char* what) {
  return [rep, status, what](core::Result<store::GroupUpdate> r) {
    if (!r) return rep(failure(r.error(), what));
    rep(http::Response::json(status, conversation_json(r->conversation)));
  };
}

}  // namespace

void Api::create_group(const http::Request& req, http::Reply reply) {
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error type_errors;
  chat::CreateGroupRequest cr;
  cr.type = string_member(*body, "type", type_errors);
  cr.name = string_member(*body, "name", type_errors);
  cr.member_ids = string_array_member(*body, "memberIds", type_errors);
  with_principal(req, std::move(reply),
                 [this, cr = std::move(cr), type_errors = std::move(type_errors)](
                     const auth::Principal& p, const http::Reply& rep) mutable {
                   cr.caller_id = p.user.id;
                   groups_.create(std::move(cr), std::move(type_errors),
                                  answer_group(rep, 201, "create group"));
                 });
}

void Api::rename_group(const http::Request& req, http::Reply reply) {
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error type_errors;
  auto name = string_member(*body, "name", type_errors);
  with_principal(req, std::move(reply),
                 [this, id = std::string(req.param("id")), name = std::move(name),
                  type_errors = std::move(type_errors)](const auth::Principal& p,
                                                        const http::Reply& rep) mutable {
                   groups_.rename(p.user.id, std::move(id), name, std::move(type_errors),
                                  answer_group(rep, 200, "rename group"));
                 });
}

void Api::add_members(const http::Request& req, http::Reply reply) {
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error type_errors;
  auto user_ids = string_array_member(*body, "userIds", type_errors);
  with_principal(req, std::move(reply),
                 [this, id = std::string(req.param("id")), user_ids = std::move(user_ids),
                  type_errors = std::move(type_errors)](const auth::Principal& p,
                                                        const http::Reply& rep) mutable {
                   groups_.add_members(p.user.id, std::move(id), std::move(user_ids),
                                       std::move(type_errors),
                                       answer_group(rep, 200, "add members"));
                 });
}

void Api::remove_member(const http::Request& req, http::Reply reply) {
  with_principal(req, std::move(reply),
                 [this, id = std::string(req.param("id")), user = std::string(req.param("userId"))](
                     const auth::Principal& p, const http::Reply& rep) mutable {
                   const bool leaving = user == p.user.id;
                   groups_.remove_member(
                       p.user.id, std::move(id), std::move(user),
                       [rep, leaving](core::Result<store::GroupUpdate> r) {
                         if (!r) return rep(failure(r.error(), "remove member"));
                         if (leaving) return rep(http::Response::json(200, R"({"left":true})"));
                         rep(http::Response::json(200, conversation_json(r->conversation)));
                       });
                 });
}

}  // namespace parley::api
