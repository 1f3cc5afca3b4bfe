// Internals shared by the SqliteStore translation units (not part of the
// store's interface).
#pragma once

#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sqlite/sqlite_store.hpp"

namespace parley::store::sqlite::detail {

inline core::Error db_error(const Connection& db, std::string_view what) {
  return core::Error::internal(fmt::format("sqlite {}: {}", what, db.last_error()));
}

inline core::Error closed_error() {
  return core::Error::make(core::ErrorCode::unavailable, "Service unavailable", "store closed");
}

// Columns: id, name, email, avatar, created_at, last_seen.
inline constexpr const char* kUserColumns = "id, name, email, avatar, created_at, last_seen";

inline User read_user(const Statement& st, int first = 0) {
  User u;
  u.id = st.text(first);
  u.name = st.text(first + 1);
  u.email = st.text(first + 2);
  u.avatar = st.optional_text(first + 3);
  u.created_at = st.integer(first + 4);
  u.last_seen = st.optional_integer(first + 5);
  return u;
}

}  // namespace parley::store::sqlite::detail

namespace parley::store::sqlite {

template <typename State, typename Apply, typename Done>
void SqliteStore::write(State state, Apply apply, Done done) {
  enqueue(std::make_unique<store::LambdaWrite<Connection, State, Apply, Done>>(
      std::move(state), std::move(apply), std::move(done)));
}

}  // namespace parley::store::sqlite
