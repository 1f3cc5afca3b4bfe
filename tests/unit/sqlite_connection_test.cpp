#include "store/sqlite/connection.hpp"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace parley::store::sqlite {
namespace {

std::int64_t pragma(Connection& db, const char* sql) {
  auto st = db.prepare(sql);
  EXPECT_TRUE(st.has_value());
  EXPECT_EQ(st->step(), 100);  // SQLITE_ROW
  return st->integer(0);
}

TEST(SqliteConnection, PageCacheAndMmapFollowTheSettings) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("parley-conn-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.db").string();
  {
    Connection db;
    ASSERT_FALSE(db.open(path, Connection::Mode::writer, "full", {8ULL << 20, 16ULL << 20}));
    EXPECT_EQ(pragma(db, "PRAGMA cache_size"), -8192);  // KiB
    EXPECT_EQ(pragma(db, "PRAGMA mmap_size"), 16LL << 20);
    EXPECT_EQ(pragma(db, "PRAGMA synchronous"), 2);  // FULL
  }
  {
    Connection db;
    ASSERT_FALSE(db.open(path, Connection::Mode::reader, "full", {1ULL << 20, 0}));
    EXPECT_EQ(pragma(db, "PRAGMA cache_size"), -1024);
    EXPECT_EQ(pragma(db, "PRAGMA mmap_size"), 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace parley::store::sqlite
