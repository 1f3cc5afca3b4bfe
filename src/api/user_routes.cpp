// GET /api/users.
#include <charconv>

#include "api/api.hpp"
#include "api/json.hpp"
#include "obs/log.hpp"

namespace parley::api {

namespace {

// A non-negative integer query parameter within [min, max].
bool read_count(const http::Request& req, const char* name, std::size_t def, std::size_t min,
                std::size_t max, std::size_t& out, core::Error& err, const char* problem) {
  std::string raw;
  if (!req.query_param(name, raw)) {
    out = def;
    return true;
  }
  long long v = -1;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (raw.empty() || ec != std::errc{} || ptr != raw.data() + raw.size() || v < 0 ||
      static_cast<unsigned long long>(v) < min || static_cast<unsigned long long>(v) > max) {
    err.code = core::ErrorCode::validation_failed;
    err.message = "Validation failed";
    err.fields.push_back({name, problem});
    return false;
  }
  out = static_cast<std::size_t>(v);
  return true;
}

}  // namespace

void Api::list_users(const http::Request& req, http::Reply reply) {
  chat::UserListQuery q;
  core::Error err;
  read_count(req, "limit", 50, 1, chat::Directory::kMaxLimit, q.limit, err,
             "must be an integer from 1 to 200");
  read_count(req, "skip", 0, 0, 1'000'000'000, q.skip, err, "must be a non-negative integer");
  req.query_param("q", q.q);
  if (!err.fields.empty()) return reply(http::Response::error(err));
  with_principal(
      req, std::move(reply),
      [this, q = std::move(q)](const auth::Principal& p, const http::Reply& rep) mutable {
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
