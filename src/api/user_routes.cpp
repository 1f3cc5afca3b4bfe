// GET /api/users.
#include "api/api.hpp"
#include "api/json.hpp"
#include "api/params.hpp"
#include "obs/log.hpp"

namespace parley::api {

void Api::list_users(const http::Request& req, http::Reply reply) {
  // Authentication first, as an Express auth middleware would: a bad query
  // from an anonymous caller is a 401.
  with_principal(
      req, std::move(reply), [this, &req](const auth::Principal& p, const http::Reply& rep) {
        core::Error err;
        long long limit = 50, skip = 0;
        read_int_param(req, "limit", 1, chat::Directory::kMaxLimit, limit, err,
                       "must be an integer from 1 to 200");
        read_int_param(req, "skip", 0, kMaxSkip, skip, err, "must be a non-negative integer");
        if (!err.fields.empty()) return rep(http::Response::error(err));
        chat::UserListQuery q;
        req.query_param("q", q.q);
        q.limit = static_cast<std::size_t>(limit);
        q.skip = static_cast<std::size_t>(skip);
        q.caller_id = p.user.id;
        directory_.list(std::move(q), [rep](core::Result<std::vector<chat::ListedUser>> r) {
          if (!r) {
            obs::log(obs::Level::error, "list users: {}", r.error().detail);
            return rep(http::Response::error(r.error()));
          }
          rapidjson::StringBuffer buf;
          JsonWriter w(buf);
          w.StartArray();
          for (const auto& u : *r) write_user(w, u.user, u.online);
          w.EndArray();
          rep(http::Response::json(200, take(buf)));
        });
      });
}

}  // namespace parley::api
