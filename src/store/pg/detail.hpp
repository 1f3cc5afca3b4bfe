// Internals shared by the PgStore translation units (not part of the
// store's interface).
#pragma once

#include <utility>

#include "store/pg/pg_store.hpp"

namespace parley::store::pg::detail {

inline core::Error closed_error() {
  return core::Error::make(core::ErrorCode::unavailable, "Service unavailable", "store closed");
}

// Columns: id, name, email, avatar, created_at, last_seen.
inline constexpr const char* kUserColumns = "id, name, email, avatar, created_at, last_seen";

inline User read_user(const Rows& rows, int row, int first = 0) {
  User u;
  u.id = rows.text(row, first);
  u.name = rows.text(row, first + 1);
  u.email = rows.text(row, first + 2);
  u.avatar = rows.optional_text(row, first + 3);
  u.created_at = rows.integer(row, first + 4);
  u.last_seen = rows.optional_integer(row, first + 5);
  return u;
}

}  // namespace parley::store::pg::detail

namespace parley::store::pg {

template <typename State, typename Apply, typename Done>
void PgStore::write(State state, Apply apply, Done done) {
  enqueue(std::make_unique<store::LambdaWrite<Connection, State, Apply, Done>>(
      std::move(state), std::move(apply), std::move(done)));
}

template <typename T>
void PgStore::read(std::function<core::Result<T>(Connection&)> query, Callback<T> done) {
  post_read([query = std::move(query), done = std::move(done)](Connection* conn) {
    if (!conn) return done(core::fail(detail::closed_error()));
    if (!conn->ensure()) {
      return done(core::fail(unavailable_error("postgres: " + conn->connect_error())));
    }
    auto r = query(*conn);
    // Found the connection lost (the server restarted since its last use):
    // a read may simply run again, on a new session if one can be had.
    if (!r && r.error().code == core::ErrorCode::unavailable && conn->ensure()) r = query(*conn);
    done(std::move(r));
  });
}

}  // namespace parley::store::pg
