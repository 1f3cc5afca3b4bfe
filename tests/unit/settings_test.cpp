#include "config/settings.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace parley::config {
namespace {

using namespace std::chrono_literals;

Settings load_ok(const Env& env) {
  auto s = load_settings(env);
  EXPECT_TRUE(s.has_value()) << (s ? std::string() : s.error());
  return s ? *s : Settings{};
}

std::string load_error(const Env& env) {
  auto s = load_settings(env);
  EXPECT_FALSE(s.has_value());
  return s ? std::string() : s.error();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// --- defaults -------------------------------------------------------------

TEST(LoadSettings, EmptyEnvironmentGivesEveryDefault) {
  const Settings s = load_ok({});
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, 4000);
  EXPECT_EQ(s.threads, cores);
  EXPECT_EQ(s.cpu_threads, cores);
  EXPECT_EQ(s.store, StoreKind::sqlite);
  EXPECT_EQ(s.database_url, "");
  EXPECT_EQ(s.sqlite_path, "./data/parley.db");
  EXPECT_EQ(s.sqlite_synchronous, "full");
  EXPECT_EQ(s.db_readers, 2U);
  EXPECT_EQ(s.redis_url, "");
  EXPECT_EQ(s.redis_prefix, "parley:");
  EXPECT_EQ(s.jwt_secret, "");
  EXPECT_FALSE(s.jwt_secret_generated);
  EXPECT_EQ(s.jwt_expires_in, std::chrono::seconds{7 * 24 * 3600});
  EXPECT_EQ(s.cookie_name, "token");
  EXPECT_FALSE(s.cookie_secure);
  EXPECT_EQ(s.bcrypt_rounds, 12);
  EXPECT_FALSE(s.production);
  EXPECT_EQ(s.node_env, "development");
  EXPECT_EQ(s.log_level, "info");
  EXPECT_TRUE(s.client_urls.empty());
  EXPECT_FALSE(s.trust_proxy);
  EXPECT_EQ(s.body_limit_bytes, 102400U);
  EXPECT_EQ(s.max_header_bytes, 16384U);
  EXPECT_EQ(s.json_max_depth, 64U);
  EXPECT_EQ(s.headers_timeout, 10000ms);
  EXPECT_EQ(s.keepalive_timeout, 5000ms);
  EXPECT_EQ(s.request_timeout, 30000ms);
  EXPECT_EQ(s.shutdown_timeout, 10000ms);
  EXPECT_EQ(s.rate_limit_auth_per_min, 20);
  EXPECT_DOUBLE_EQ(s.rate_limit_messages_per_sec, 20.0);
  EXPECT_EQ(s.rate_limit_messages_burst, 50);
  EXPECT_FALSE(s.rate_limit_disabled);
  EXPECT_EQ(s.max_sockets_per_user, 10);
  EXPECT_EQ(s.max_connections_per_ip, 1000);
  EXPECT_EQ(s.max_connections, 20000);
  EXPECT_FALSE(s.max_connections_set);
  EXPECT_EQ(s.linger_max_bytes, 8U * 1024 * 1024);
  EXPECT_EQ(s.linger_timeout, 5000ms);
  EXPECT_FALSE(s.ws_allow_any_origin);
  EXPECT_EQ(s.jwt_leeway_seconds, 5);
  EXPECT_EQ(s.sqlite_cache_mb, 64U);
  EXPECT_EQ(s.sqlite_mmap_mb, 0U);
  EXPECT_EQ(s.max_pending_sessions_per_ip, 256);
  EXPECT_EQ(s.socket_max_attachment_bytes, 1U << 20);
}

TEST(LoadSettings, EmptyValuesCountAsUnset) {
  const Settings s = load_ok({{"PORT", ""},
                              {"NODE_ENV", ""},
                              {"LOG_LEVEL", ""},
                              {"DATABASE_URL", ""},
                              {"JWT_EXPIRES_IN", ""},
                              {"COOKIE_SECURE", ""}});
  EXPECT_EQ(s.port, 4000);
  EXPECT_EQ(s.node_env, "development");
  EXPECT_EQ(s.log_level, "info");
  EXPECT_EQ(s.sqlite_path, "./data/parley.db");
  EXPECT_EQ(s.jwt_expires_in, std::chrono::seconds{7 * 24 * 3600});
  EXPECT_FALSE(s.cookie_secure);
}

TEST(LoadSettings, ReadsExplicitValues) {
  const Settings s = load_ok({{"HOST", " 127.0.0.1 "},
                              {"THREADS", "3"},
                              {"CPU_THREADS", "5"},
                              {"DB_READERS", "4"},
                              {"SQLITE_SYNCHRONOUS", "normal"},
                              {"REDIS_URL", "redis://localhost:6379"},
                              {"COOKIE_NAME", "parley.sid"},
                              {"BCRYPT_ROUNDS", "4"},
                              {"BODY_LIMIT_BYTES", "2048"},
                              {"HEADERS_TIMEOUT_MS", "1500"},
                              {"SHUTDOWN_TIMEOUT_MS", "250"},
                              {"RATE_LIMIT_AUTH_PER_MIN", "7"},
                              {"RATE_LIMIT_MESSAGES_PER_SEC", "3"},
                              {"RATE_LIMIT_MESSAGES_BURST", "9"},
                              {"MAX_CONNECTIONS", "12"}});
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.threads, 3U);
  EXPECT_EQ(s.cpu_threads, 5U);
  EXPECT_EQ(s.db_readers, 4U);
  EXPECT_EQ(s.sqlite_synchronous, "normal");
  EXPECT_EQ(s.redis_url, "redis://localhost:6379");
  EXPECT_EQ(s.cookie_name, "parley.sid");
  EXPECT_EQ(s.bcrypt_rounds, 4);
  EXPECT_EQ(s.body_limit_bytes, 2048U);
  EXPECT_EQ(s.headers_timeout, 1500ms);
  EXPECT_EQ(s.shutdown_timeout, 250ms);
  EXPECT_EQ(s.rate_limit_auth_per_min, 7);
  EXPECT_DOUBLE_EQ(s.rate_limit_messages_per_sec, 3.0);
  EXPECT_EQ(s.rate_limit_messages_burst, 9);
  EXPECT_EQ(s.max_connections, 12);
  EXPECT_TRUE(s.max_connections_set);
}

// --- PORT -----------------------------------------------------------------

TEST(LoadSettings, PortBounds) {
  EXPECT_EQ(load_ok({{"PORT", "0"}}).port, 0);
  EXPECT_EQ(load_ok({{"PORT", "1"}}).port, 1);
  EXPECT_EQ(load_ok({{"PORT", "8080"}}).port, 8080);
  EXPECT_EQ(load_ok({{"PORT", "65535"}}).port, 65535);
  EXPECT_EQ(load_ok({{"PORT", " 3000 "}}).port, 3000);
  EXPECT_TRUE(contains(load_error({{"PORT", "65536"}}), "PORT"));
  EXPECT_TRUE(contains(load_error({{"PORT", "-1"}}), "PORT"));
  EXPECT_TRUE(contains(load_error({{"PORT", "99999999999999999999"}}), "PORT"));
}

TEST(LoadSettings, PortGarbage) {
  for (const char* bad : {"abc", "80x", "8o", "0x50", "+80", "80.0", "1e3", "eighty", "80 80"}) {
    const std::string err = load_error({{"PORT", bad}});
    EXPECT_TRUE(contains(err, "PORT")) << bad << ": " << err;
    EXPECT_TRUE(contains(err, bad)) << "the message quotes the value: " << err;
  }
}

TEST(LoadSettings, OtherIntegerBounds) {
  EXPECT_FALSE(load_settings({{"THREADS", "0"}}));
  EXPECT_FALSE(load_settings({{"THREADS", "257"}}));
  EXPECT_FALSE(load_settings({{"BCRYPT_ROUNDS", "3"}}));
  EXPECT_FALSE(load_settings({{"BCRYPT_ROUNDS", "32"}}));
  EXPECT_EQ(load_ok({{"BCRYPT_ROUNDS", "31"}}).bcrypt_rounds, 31);
  EXPECT_FALSE(load_settings({{"MAX_HEADER_BYTES", "1023"}}));
  EXPECT_FALSE(load_settings({{"DB_READERS", "65"}}));
  EXPECT_FALSE(load_settings({{"KEEPALIVE_TIMEOUT_MS", "0"}}));
  EXPECT_FALSE(load_settings({{"REQUEST_TIMEOUT_MS", "3600001"}}));
  EXPECT_EQ(load_ok({{"REQUEST_TIMEOUT_MS", "3600000"}}).request_timeout, 3600000ms);
}

TEST(LoadSettings, SqliteSynchronousValues) {
  EXPECT_EQ(load_ok({{"SQLITE_SYNCHRONOUS", "extra"}}).sqlite_synchronous, "extra");
  EXPECT_EQ(load_ok({{"SQLITE_SYNCHRONOUS", "full"}}).sqlite_synchronous, "full");
  EXPECT_FALSE(load_ok({}).presence_contacts_only);
  EXPECT_FALSE(load_ok({{"PRESENCE_SCOPE", "all"}}).presence_contacts_only);
  EXPECT_TRUE(load_ok({{"PRESENCE_SCOPE", "contacts"}}).presence_contacts_only);
  EXPECT_TRUE(contains(load_error({{"SQLITE_SYNCHRONOUS", "off"}}), "SQLITE_SYNCHRONOUS"));
}

TEST(LoadSettings, CookieNameCharacters) {
  EXPECT_EQ(load_ok({{"COOKIE_NAME", "a_b-c.d9"}}).cookie_name, "a_b-c.d9");
  EXPECT_FALSE(load_settings({{"COOKIE_NAME", "a b"}}));
  EXPECT_FALSE(load_settings({{"COOKIE_NAME", "a;b"}}));
  EXPECT_FALSE(load_settings({{"COOKIE_NAME", "a=b"}}));
  EXPECT_FALSE(load_settings({{"COOKIE_NAME", "   "}}));
}

// --- booleans -------------------------------------------------------------

TEST(LoadSettings, BooleanSpellings) {
  for (const char* yes : {"true", "1", "yes", "on", " true "}) {
    const Settings s =
        load_ok({{"COOKIE_SECURE", yes}, {"TRUST_PROXY", yes}, {"RATE_LIMIT_DISABLED", yes}});
    EXPECT_TRUE(s.cookie_secure) << yes;
    EXPECT_TRUE(s.trust_proxy) << yes;
    EXPECT_TRUE(s.rate_limit_disabled) << yes;
  }
  for (const char* no : {"false", "0", "no", "off"}) {
    const Settings s =
        load_ok({{"COOKIE_SECURE", no}, {"TRUST_PROXY", no}, {"RATE_LIMIT_DISABLED", no}});
    EXPECT_FALSE(s.cookie_secure) << no;
    EXPECT_FALSE(s.trust_proxy) << no;
    EXPECT_FALSE(s.rate_limit_disabled) << no;
  }
}

TEST(LoadSettings, BooleanGarbageIsAnError) {
  for (const char* bad : {"maybe", "2", "y", "enabled", "tru"}) {
    EXPECT_TRUE(contains(load_error({{"COOKIE_SECURE", bad}}), "COOKIE_SECURE")) << bad;
    EXPECT_TRUE(contains(load_error({{"TRUST_PROXY", bad}}), "TRUST_PROXY")) << bad;
    EXPECT_TRUE(contains(load_error({{"RATE_LIMIT_DISABLED", bad}}), "RATE_LIMIT_DISABLED")) << bad;
  }
}

// --- JWT_EXPIRES_IN -------------------------------------------------------

TEST(LoadSettings, JwtExpiresInUnits) {
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", "7d"}}).jwt_expires_in, std::chrono::seconds{604800});
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", "12h"}}).jwt_expires_in, std::chrono::seconds{43200});
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", "30m"}}).jwt_expires_in, std::chrono::seconds{1800});
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", "45s"}}).jwt_expires_in, std::chrono::seconds{45});
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", "3600"}}).jwt_expires_in, std::chrono::seconds{3600});
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", " 1d "}}).jwt_expires_in, std::chrono::seconds{86400});
}

TEST(LoadSettings, JwtExpiresInGarbageAndZero) {
  for (const char* bad : {"0", "0d", "0s", "-5", "-1h", "abc", "d", "7w", "1.5h", "7 d", "h7",
                          "7dd", "99999999999999999999"}) {
    const std::string err = load_error({{"JWT_EXPIRES_IN", bad}});
    EXPECT_TRUE(contains(err, "JWT_EXPIRES_IN")) << bad << ": " << err;
  }
  // At most ten years.
  EXPECT_EQ(load_ok({{"JWT_EXPIRES_IN", "3650d"}}).jwt_expires_in,
            std::chrono::seconds{3650LL * 86400});
  EXPECT_FALSE(load_settings({{"JWT_EXPIRES_IN", "3651d"}}));
}

// --- DATABASE_URL / MONGO_URI ----------------------------------------------

TEST(LoadSettings, DatabaseUrlPlainPath) {
  const Settings s = load_ok({{"DATABASE_URL", "./var/chat.db"}});
  EXPECT_EQ(s.store, StoreKind::sqlite);
  EXPECT_EQ(s.sqlite_path, "./var/chat.db");
  EXPECT_EQ(s.database_url, "./var/chat.db");
  EXPECT_EQ(load_ok({{"DATABASE_URL", "/tmp/a.db"}}).sqlite_path, "/tmp/a.db");
  EXPECT_EQ(load_ok({{"DATABASE_URL", "chat.db"}}).sqlite_path, "chat.db");
  // A colon after the first slash is part of a path.
  EXPECT_EQ(load_ok({{"DATABASE_URL", "./a:b.db"}}).sqlite_path, "./a:b.db");
}

TEST(LoadSettings, DatabaseUrlSqliteSchemes) {
  Settings s = load_ok({{"DATABASE_URL", "sqlite:./data/x.db"}});
  EXPECT_EQ(s.store, StoreKind::sqlite);
  EXPECT_EQ(s.sqlite_path, "./data/x.db");
  EXPECT_EQ(s.database_url, "sqlite:./data/x.db");

  s = load_ok({{"DATABASE_URL", "sqlite://./data/y.db"}});
  EXPECT_EQ(s.store, StoreKind::sqlite);
  EXPECT_EQ(s.sqlite_path, "./data/y.db");

  s = load_ok({{"DATABASE_URL", "sqlite:///var/lib/parley.db"}});
  EXPECT_EQ(s.sqlite_path, "/var/lib/parley.db");

  EXPECT_TRUE(contains(load_error({{"DATABASE_URL", "sqlite:"}}), "DATABASE_URL"));
  EXPECT_TRUE(contains(load_error({{"DATABASE_URL", "sqlite://"}}), "DATABASE_URL"));
}

TEST(LoadSettings, DatabaseUrlPostgres) {
  const std::string url = "postgres://user:pw@db:5432/parley";
  Settings s = load_ok({{"DATABASE_URL", url}});
  EXPECT_EQ(s.store, StoreKind::postgres);
  EXPECT_EQ(s.database_url, url);
  EXPECT_EQ(s.sqlite_path, "./data/parley.db");  // untouched
  EXPECT_EQ(load_ok({{"DATABASE_URL", "postgresql://db/parley"}}).store, StoreKind::postgres);
}

TEST(LoadSettings, RedisPrefix) {
  EXPECT_EQ(load_ok({{"REDIS_PREFIX", " chat-eu: "}}).redis_prefix, "chat-eu:");
  for (const char* bad : {"has space", "tab\there", " ", "\x01ctl"}) {
    const std::string err = load_error({{"REDIS_PREFIX", bad}});
    EXPECT_TRUE(contains(err, "REDIS_PREFIX")) << err;
  }
  const std::string too_long(kMaxRedisPrefixBytes + 1, 'p');
  EXPECT_TRUE(contains(load_error({{"REDIS_PREFIX", too_long}}), "REDIS_PREFIX"));
  EXPECT_EQ(load_ok({{"REDIS_PREFIX", std::string(kMaxRedisPrefixBytes, 'p')}}).redis_prefix.size(),
            kMaxRedisPrefixBytes);
}

// One node publishes its commits in commit order: no reorder wait unless
// several nodes share Redis, or it is set.
TEST(LoadSettings, DeliveryReorderWaitDependsOnRedis) {
  using std::chrono::milliseconds;
  EXPECT_EQ(load_ok({}).delivery_reorder_wait, milliseconds(0));
  EXPECT_EQ(load_ok({{"REDIS_URL", "redis://127.0.0.1:6379"}}).delivery_reorder_wait,
            milliseconds(250));
  EXPECT_EQ(load_ok({{"DELIVERY_REORDER_MS", "40"}}).delivery_reorder_wait, milliseconds(40));
  EXPECT_EQ(load_ok({{"REDIS_URL", "redis://127.0.0.1:6379"}, {"DELIVERY_REORDER_MS", "0"}})
                .delivery_reorder_wait,
            milliseconds(0));
  EXPECT_TRUE(contains(load_error({{"DELIVERY_REORDER_MS", "-1"}}), "DELIVERY_REORDER_MS"));
}

TEST(LoadSettings, PgPoolSize) {
  EXPECT_EQ(load_ok({}).pg_pool_size, 4U);
  EXPECT_EQ(load_ok({{"PG_POOL_SIZE", "8"}}).pg_pool_size, 8U);
  EXPECT_TRUE(contains(load_error({{"PG_POOL_SIZE", "0"}}), "PG_POOL_SIZE"));
  EXPECT_TRUE(contains(load_error({{"PG_POOL_SIZE", "65"}}), "PG_POOL_SIZE"));
}

TEST(LoadSettings, DatabaseUrlOtherSchemesAreErrors) {
  for (const char* bad : {"mysql://x", "mongodb://localhost/chat", "redis://r", "http://x/db"}) {
    const std::string err = load_error({{"DATABASE_URL", bad}});
    EXPECT_TRUE(contains(err, "DATABASE_URL")) << err;
    EXPECT_TRUE(contains(err, bad)) << err;
  }
}

TEST(LoadSettings, MongoUriWithoutDatabaseUrlIsAnError) {
  const std::string err = load_error({{"MONGO_URI", "mongodb://localhost:27017/chat"}});
  EXPECT_TRUE(contains(err, "MONGO_URI")) << err;
  EXPECT_TRUE(contains(err, "DATABASE_URL")) << err;
}

TEST(LoadSettings, MongoUriWithDatabaseUrlIsFine) {
  const Settings s =
      load_ok({{"MONGO_URI", "mongodb://localhost:27017/chat"}, {"DATABASE_URL", "sqlite:./m.db"}});
  EXPECT_EQ(s.store, StoreKind::sqlite);
  EXPECT_EQ(s.sqlite_path, "./m.db");
  // An empty MONGO_URI is as good as none.
  EXPECT_TRUE(load_settings({{"MONGO_URI", ""}}));
}

// --- production and JWT_SECRET ---------------------------------------------

TEST(LoadSettings, ProductionNeedsAJwtSecret) {
  const std::string err = load_error({{"NODE_ENV", "production"}});
  EXPECT_TRUE(contains(err, "JWT_SECRET")) << err;
  EXPECT_TRUE(contains(err, "production")) << err;
}

TEST(LoadSettings, ProductionRejectsAShortJwtSecret) {
  const std::string err =
      load_error({{"NODE_ENV", "production"}, {"JWT_SECRET", std::string(31, 'k')}});
  EXPECT_TRUE(contains(err, "JWT_SECRET")) << err;
  EXPECT_TRUE(contains(err, "32")) << err;
}

TEST(LoadSettings, ProductionAcceptsA32ByteJwtSecret) {
  const std::string secret(32, 'k');
  const Settings s = load_ok({{"NODE_ENV", "production"}, {"JWT_SECRET", secret}});
  EXPECT_TRUE(s.production);
  EXPECT_EQ(s.node_env, "production");
  EXPECT_EQ(s.jwt_secret, secret);
}

TEST(LoadSettings, DevelopmentAllowsAnyJwtSecret) {
  const Settings s = load_ok({{"JWT_SECRET", "short"}});
  EXPECT_FALSE(s.production);
  EXPECT_EQ(s.jwt_secret, "short");
  EXPECT_FALSE(load_ok({{"NODE_ENV", "test"}}).production);
  EXPECT_EQ(load_ok({{"NODE_ENV", " test "}}).node_env, "test");
}

// --- LOG_LEVEL ------------------------------------------------------------

TEST(LoadSettings, LogLevels) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    EXPECT_EQ(load_ok({{"LOG_LEVEL", level}}).log_level, level);
  }
  EXPECT_EQ(load_ok({{"LOG_LEVEL", " warn "}}).log_level, "warn");
  for (const char* bad : {"verbose", "warning", "fatal", "2"}) {
    EXPECT_TRUE(contains(load_error({{"LOG_LEVEL", bad}}), "LOG_LEVEL")) << bad;
  }
}

// --- CLIENT_URL -----------------------------------------------------------

TEST(LoadSettings, ClientUrlSingle) {
  const Settings s = load_ok({{"CLIENT_URL", "http://localhost:5173"}});
  EXPECT_EQ(s.client_urls, std::vector<std::string>{"http://localhost:5173"});
}

TEST(LoadSettings, ClientUrlListWithSpacesAndTrailingSlashes) {
  const Settings s = load_ok(
      {{"CLIENT_URL", " http://localhost:5173/ ,https://chat.example.com//,, https://b.example "}});
  EXPECT_EQ(s.client_urls,
            (std::vector<std::string>{"http://localhost:5173", "https://chat.example.com",
                                      "https://b.example"}));
  EXPECT_TRUE(load_ok({{"CLIENT_URL", " , ,/"}}).client_urls.empty());
}

// --- parse_env_file ---------------------------------------------------------

TEST(ParseEnvFile, KeysValuesCommentsAndBlankLines) {
  const Env env = parse_env_file(
      "# a comment\n"
      "\n"
      "PORT=5000\n"
      "   # indented comment\n"
      "HOST = 127.0.0.1  \n"
      "NOEQUALS\n"
      "=novalue\n"
      "EMPTY=\n");
  EXPECT_EQ(env, (Env{{"PORT", "5000"}, {"HOST", "127.0.0.1"}, {"EMPTY", ""}}));
}

TEST(ParseEnvFile, ExportPrefix) {
  const Env env = parse_env_file("export PORT=5001\nexport   LOG_LEVEL=debug\nexported=1\n");
  EXPECT_EQ(env.at("PORT"), "5001");
  EXPECT_EQ(env.at("LOG_LEVEL"), "debug");
  EXPECT_EQ(env.at("exported"), "1");
}

TEST(ParseEnvFile, Quotes) {
  const Env env = parse_env_file(
      "A=\"double quoted\"\n"
      "B='single quoted'\n"
      "C=\"keeps # hash\"\n"
      "D='x' \n"
      "E=\"unbalanced\n"
      "F=\"\"\n"
      "G=\"a=b\"\n");
  EXPECT_EQ(env.at("A"), "double quoted");
  EXPECT_EQ(env.at("B"), "single quoted");
  EXPECT_EQ(env.at("C"), "keeps # hash");
  EXPECT_EQ(env.at("D"), "x");
  EXPECT_EQ(env.at("E"), "\"unbalanced");
  EXPECT_EQ(env.at("F"), "");
  EXPECT_EQ(env.at("G"), "a=b");
}

TEST(ParseEnvFile, InlineComments) {
  const Env env = parse_env_file(
      "PORT=5002 # the port\n"
      "URL=http://x/#frag\n"
      "TAG=a#b\n"
      "SPACED=two words   # note\n");
  EXPECT_EQ(env.at("PORT"), "5002");
  EXPECT_EQ(env.at("URL"), "http://x/#frag");
  EXPECT_EQ(env.at("TAG"), "a#b");
  EXPECT_EQ(env.at("SPACED"), "two words");
}

TEST(ParseEnvFile, CrlfLineEndingsAndLaterLinesWin) {
  const Env env = parse_env_file("A=1\r\nB=2\r\nA=3\r\n");
  EXPECT_EQ(env.at("A"), "3");
  EXPECT_EQ(env.at("B"), "2");
}

TEST(ParseEnvFile, FeedsLoadSettings) {
  const Env env = parse_env_file(
      "# production settings\n"
      "export NODE_ENV=production\n"
      "JWT_SECRET=\"0123456789abcdef0123456789abcdef\"\n"
      "PORT=8081 # public port\n"
      "CLIENT_URL='https://a.example/, https://b.example'\n");
  const Settings s = load_ok(env);
  EXPECT_TRUE(s.production);
  EXPECT_EQ(s.port, 8081);
  EXPECT_EQ(s.jwt_secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(s.client_urls, (std::vector<std::string>{"https://a.example", "https://b.example"}));
}

}  // namespace
}  // namespace parley::config
