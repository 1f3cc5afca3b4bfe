#include "chat/directory.hpp"

#include "core/utf8.hpp"

namespace parley::chat {

void Directory::list(UserListQuery query,
                     std::function<void(core::Result<std::vector<ListedUser>>)> done) {
  store::UserQuery sq;
  sq.exclude_id = std::move(query.caller_id);
  sq.prefix = core::ascii_lower(core::trim_unicode(query.q));
  sq.limit = query.limit;
  sq.skip = query.skip;
  store_.list_users(std::move(sq),
                    [this, done = std::move(done)](core::Result<std::vector<store::User>> r) {
                      if (!r) return done(core::fail(std::move(r.error())));
                      std::vector<ListedUser> out;
                      out.reserve(r->size());
                      for (auto& u : *r) {
                        const bool online = presence_.online(u.id);
                        out.push_back(ListedUser{std::move(u), online});
                      }
                      done(std::move(out));
                    });
}

}  // namespace parley::chat
