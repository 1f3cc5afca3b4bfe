// POST /api/messages/send, GET /api/messages/:id, POST /api/messages/:id/read,
// GET /api/conversations.
#include "api/api.hpp"
#include "api/json.hpp"
#include "api/params.hpp"
#include "obs/log.hpp"

namespace parley::api {

void Api::send_message(const http::Request& req, http::Reply reply) {
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error type_errors;
  chat::SendRequest sr;
  sr.to = string_member(*body, "to", type_errors);
  sr.conversation_id = string_member(*body, "conversationId", type_errors);
  sr.text = string_member(*body, "text", type_errors);
  sr.temp_id = string_member(*body, "tempId", type_errors);
  with_principal(
      req, std::move(reply),
      [this, sr = std::move(sr), type_errors = std::move(type_errors)](
          const auth::Principal& p, const http::Reply& rep) mutable {
        sr.from = p.user.id;
        messenger_.send(std::move(sr), std::move(type_errors), [rep](core::Result<chat::Sent> r) {
          if (!r) return rep(failure(r.error(), "send"));
          rep(http::Response::json(r->duplicate ? 200 : 201, message_json(r->message)));
        });
      });
}

void Api::history(const http::Request& req, http::Reply reply) {
  with_principal(
      req, std::move(reply), [this, &req](const auth::Principal& p, const http::Reply& rep) {
        core::Error err;
        long long limit = 50, skip = 0, after = -1;
        read_int_param(req, "limit", 1, chat::Messenger::kMaxPageSize, limit, err,
                       "must be an integer from 1 to 200");
        read_int_param(req, "skip", 0, kMaxSkip, skip, err, "must be a non-negative integer");
        read_int_param(req, "afterSeq", 0, kMaxSkip, after, err, "must be a non-negative integer");
        std::string ignored;
        if (req.query_param("afterSeq", ignored) &&
            (req.query_param("before", ignored) || req.query_param("skip", ignored))) {
          // Contract v1.1: afterSeq pages by seq alone.
          err.code = core::ErrorCode::validation_failed;
          err.message = "Validation failed";
          err.fields.push_back({"afterSeq", "cannot be combined with before or skip"});
        }
        if (!err.fields.empty()) return rep(http::Response::error(err));
        chat::HistoryRequest hr;
        hr.caller_id = p.user.id;
        hr.target_id = std::string(req.param("id"));
        hr.limit = static_cast<std::size_t>(limit);
        hr.skip = static_cast<std::size_t>(skip);
        if (after >= 0) hr.after_seq = after;
        std::string before;
        if (req.query_param("before", before) && !before.empty()) hr.before_id = before;
        messenger_.history(std::move(hr), [rep](core::Result<store::History> r) {
          if (!r) return rep(failure(r.error(), "history"));
          rapidjson::StringBuffer buf;
          JsonWriter w(buf);
          w.StartArray();
          for (const auto& m : r->messages) write_message(w, m);
          w.EndArray();
          rep(http::Response::json(200, take(buf)));
        });
      });
}

void Api::conversations(const http::Request& req, http::Reply reply) {
  with_principal(req, std::move(reply), [this](const auth::Principal& p, const http::Reply& rep) {
    messenger_.conversations(p.user.id,
                             [rep](core::Result<std::vector<store::ConversationSummary>> r) {
                               if (!r) return rep(failure(r.error(), "conversations"));
                               rapidjson::StringBuffer buf;
                               JsonWriter w(buf);
                               w.StartArray();
                               for (const auto& c : *r) write_conversation(w, c);
                               w.EndArray();
                               rep(http::Response::json(200, take(buf)));
                             });
  });
}

void Api::conversation(const http::Request& req, http::Reply reply) {
  with_principal(
      req, std::move(reply),
      [this, id = std::string(req.param("id"))](const auth::Principal& p, const http::Reply& rep) {
        messenger_.conversation(p.user.id, id, [rep](core::Result<store::ConversationSummary> r) {
          if (!r) return rep(failure(r.error(), "conversation"));
          rapidjson::StringBuffer buf;
          JsonWriter w(buf);
          write_conversation(w, *r);
          rep(http::Response::json(200, take(buf)));
        });
      });
}

void Api::mark_read(const http::Request& req, http::Reply reply) {
  auto body = parse_body(req, options_.json_max_depth);
  if (!body) return reply(http::Response::error(body.error()));
  core::Error err;
  chat::ReadRequest rr;
  rr.target_id = std::string(req.param("id"));
  rr.up_to_id = string_member(*body, "upTo", err);
  if (!err.fields.empty()) return reply(http::Response::error(err));
  with_principal(
      req, std::move(reply),
      [this, rr = std::move(rr)](const auth::Principal& p, const http::Reply& rep) mutable {
        rr.caller_id = p.user.id;
        messenger_.mark_read(std::move(rr), [rep](core::Result<store::ReadOutcome> r) {
          if (!r) return rep(failure(r.error(), "mark read"));
          rapidjson::StringBuffer buf;
          JsonWriter w(buf);
          w.StartObject();
          write_read_members(w, *r);
          w.EndObject();
          rep(http::Response::json(200, take(buf)));
        });
      });
}

}  // namespace parley::api
