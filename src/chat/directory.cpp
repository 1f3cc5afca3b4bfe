#include "chat/directory.hpp"

#include <memory>

#include "core/utf8.hpp"

namespace parley::chat {

void Directory::list(UserListQuery query,
                     std::function<void(core::Result<std::vector<ListedUser>>)> done) {
  store::UserQuery sq;
  sq.exclude_id = std::move(query.caller_id);
  sq.prefix = core::ascii_lower(core::trim_unicode(query.q));
  sq.limit = query.limit;
  sq.skip = query.skip;
  store_.list_users(std::move(sq), [this, done = std::move(done)](
                                       core::Result<std::vector<store::User>> r) mutable {
    if (!r) return done(core::fail(std::move(r.error())));
    std::vector<std::string> ids;
    ids.reserve(r->size());
    for (const auto& u : *r) ids.push_back(u.id);
    auto users = std::make_shared<std::vector<store::User>>(std::move(*r));
    presence_.online(std::move(ids), [users, done = std::move(done)](std::vector<bool> online) {
      std::vector<ListedUser> out;
      out.reserve(users->size());
      for (std::size_t i = 0; i < users->size(); ++i) {
        out.push_back(ListedUser{std::move((*users)[i]), i < online.size() && online[i]});
      }
      done(std::move(out));
    });
  });
}

}  // namespace parley::chat
