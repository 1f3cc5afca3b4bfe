#include "config/settings.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

extern char** environ;  // NOLINT: POSIX

namespace parley::config {

namespace {

using Fail = tl::unexpected<std::string>;

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

const std::string* find(const Env& env, const char* key) {
  auto it = env.find(key);
  if (it == env.end() || it->second.empty()) return nullptr;
  return &it->second;
}

tl::expected<long long, std::string> parse_int(const Env& env, const char* key, long long def,
                                               long long min, long long max) {
  const std::string* v = find(env, key);
  if (!v) return def;
  long long out = 0;
  const std::string t = trim(*v);
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc{} || ptr != t.data() + t.size() || out < min || out > max) {
    return Fail(fmt::format("{} must be an integer from {} to {} (got \"{}\")", key, min, max, *v));
  }
  return out;
}

tl::expected<bool, std::string> parse_bool(const Env& env, const char* key, bool def) {
  const std::string* v = find(env, key);
  if (!v) return def;
  const std::string t = trim(*v);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return Fail(fmt::format("{} must be true or false (got \"{}\")", key, *v));
}

// `7d`, `12h`, `30m`, `45s` or plain seconds.
tl::expected<std::chrono::seconds, std::string> parse_lifetime(const std::string& raw) {
  const std::string t = trim(raw);
  if (t.empty()) return Fail("JWT_EXPIRES_IN is empty");
  long long mult = 1;
  std::string_view digits = t;
  switch (t.back()) {
    case 'd':
      mult = 86400;
      digits.remove_suffix(1);
      break;
    case 'h':
      mult = 3600;
      digits.remove_suffix(1);
      break;
    case 'm':
      mult = 60;
      digits.remove_suffix(1);
      break;
    case 's': digits.remove_suffix(1); break;
    default: break;
  }
  long long n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size() || n <= 0 ||
      n > 10LL * 365 * 86400 / mult) {
    return Fail(fmt::format(
        "JWT_EXPIRES_IN must be a positive duration like 7d, 12h, 30m, 45s or seconds (got \"{}\")",
        raw));
  }
  return std::chrono::seconds{n * mult};
}

// DATABASE_URL: a plain path, sqlite:PATH, sqlite://PATH, postgres://...
tl::expected<void, std::string> parse_database_url(const std::string& raw, Settings& s) {
  s.database_url = raw;
  const std::string url = trim(raw);
  auto starts = [&](std::string_view p) { return url.rfind(p, 0) == 0; };
  if (starts("postgres://") || starts("postgresql://")) {
    s.store = StoreKind::postgres;
    return {};
  }
  std::string path;
  if (starts("sqlite://")) {
    path = url.substr(9);
  } else if (starts("sqlite:")) {
    path = url.substr(7);
  } else {
    const auto colon = url.find(':');
    const auto slash = url.find('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon < slash)) {
      return tl::unexpected(fmt::format(
          "DATABASE_URL \"{}\" is not supported: use a file path, sqlite:PATH or postgres://...",
          raw));
    }
    path = url;
  }
  if (path.empty()) return tl::unexpected(std::string("DATABASE_URL names no SQLite file"));
  s.store = StoreKind::sqlite;
  s.sqlite_path = path;
  return {};
}

}  // namespace

Env parse_env_file(const std::string& text) {
  Env env;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));  // inline comment
    }
    if (!key.empty()) env[key] = value;
  }
  return env;
}

Env read_process_env(const std::string& dotenv_path) {
  Env env;
  if (std::ifstream f(dotenv_path); f) {
    std::stringstream ss;
    ss << f.rdbuf();
    env = parse_env_file(ss.str());
  }
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return env;
}

tl::expected<Settings, std::string> load_settings(const Env& env) {
  Settings s;
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());

#define PARLEY_TRY_ASSIGN(dst, expr)                                    \
  do {                                                                  \
    auto r_ = (expr);                                                   \
    if (!r_) return Fail(std::move(r_.error()));                        \
    (dst) = static_cast<std::remove_reference_t<decltype((dst))>>(*r_); \
  } while (false)

  if (const auto* v = find(env, "NODE_ENV")) s.node_env = trim(*v);
  s.production = s.node_env == "production";

  if (const auto* v = find(env, "HOST")) s.host = trim(*v);
  PARLEY_TRY_ASSIGN(s.port, parse_int(env, "PORT", 4000, 0, 65535));
  PARLEY_TRY_ASSIGN(s.threads, parse_int(env, "THREADS", cores, 1, 256));
  PARLEY_TRY_ASSIGN(s.cpu_threads, parse_int(env, "CPU_THREADS", cores, 1, 256));

  const std::string* db = find(env, "DATABASE_URL");
  if (!db && find(env, "MONGO_URI")) {
    return Fail(
        "MONGO_URI is set, but Parley does not use MongoDB: set DATABASE_URL to an SQLite file "
        "(DATABASE_URL=sqlite:./data/parley.db, the default when unset) or to PostgreSQL "
        "(DATABASE_URL=postgres://user:password@host:5432/parley), and remove MONGO_URI");
  }
  if (db) {
    if (auto r = parse_database_url(*db, s); !r) return Fail(r.error());
  }
  if (const auto* v = find(env, "SQLITE_SYNCHRONOUS")) {
    const std::string t = trim(*v);
    if (t != "full" && t != "normal" && t != "extra") {
      return Fail(fmt::format("SQLITE_SYNCHRONOUS must be full, extra or normal (got \"{}\")", *v));
    }
    s.sqlite_synchronous = t;
  }
  PARLEY_TRY_ASSIGN(s.db_readers, parse_int(env, "DB_READERS", 2, 1, 64));
  PARLEY_TRY_ASSIGN(s.pg_pool_size, parse_int(env, "PG_POOL_SIZE", 4, 1, 64));
  if (const auto* v = find(env, "REDIS_URL")) s.redis_url = trim(*v);
  if (const auto* v = find(env, "REDIS_PREFIX")) {
    const std::string t = trim(*v);
    const bool printable =
        std::all_of(t.begin(), t.end(), [](char c) { return c > ' ' && c < 127; });
    if (t.empty() || t.size() > kMaxRedisPrefixBytes || !printable) {
      return Fail(fmt::format("REDIS_PREFIX must be 1 to {} printable characters without spaces",
                              kMaxRedisPrefixBytes));
    }
    s.redis_prefix = t;
  }

  if (const auto* v = find(env, "JWT_SECRET")) s.jwt_secret = *v;
  if (s.production && s.jwt_secret.size() < 32) {
    return Fail(s.jwt_secret.empty()
                    ? "JWT_SECRET is required when NODE_ENV=production (at least 32 bytes)"
                    : "JWT_SECRET must be at least 32 bytes when NODE_ENV=production");
  }
  if (const auto* v = find(env, "JWT_EXPIRES_IN")) {
    PARLEY_TRY_ASSIGN(s.jwt_expires_in, parse_lifetime(*v));
  }
  if (const auto* v = find(env, "COOKIE_NAME")) {
    const std::string t = trim(*v);
    const bool ok = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
    if (!ok)
      return Fail(fmt::format("COOKIE_NAME must be letters, digits, _ - . (got \"{}\")", *v));
    s.cookie_name = t;
  }
  PARLEY_TRY_ASSIGN(s.cookie_secure, parse_bool(env, "COOKIE_SECURE", false));
  PARLEY_TRY_ASSIGN(s.bcrypt_rounds, parse_int(env, "BCRYPT_ROUNDS", 12, 4, 31));

  if (const auto* v = find(env, "LOG_LEVEL")) {
    const std::string t = trim(*v);
    static constexpr std::array kLevels{"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(kLevels.begin(), kLevels.end(), t) == kLevels.end()) {
      return Fail(
          fmt::format("LOG_LEVEL must be one of trace, debug, info, warn, error, off "
                      "(got \"{}\")",
                      *v));
    }
    s.log_level = t;
  }
  if (const auto* v = find(env, "CLIENT_URL")) {
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string item = trim(rest.substr(0, comma));
      while (!item.empty() && item.back() == '/') item.pop_back();
      if (!item.empty()) s.client_urls.push_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  PARLEY_TRY_ASSIGN(s.trust_proxy, parse_bool(env, "TRUST_PROXY", false));
  if (const auto* v = find(env, "WEB_ROOT")) s.web_root = trim(*v);
  PARLEY_TRY_ASSIGN(s.web_max_bytes,
                    parse_int(env, "WEB_MAX_BYTES", 64LL * 1024 * 1024, 1024, 1LL << 31));
  PARLEY_TRY_ASSIGN(s.jwt_leeway_seconds, parse_int(env, "JWT_LEEWAY_SECONDS", 5, 0, 3600));

  PARLEY_TRY_ASSIGN(s.body_limit_bytes, parse_int(env, "BODY_LIMIT_BYTES", 102400, 1, 1 << 30));
  PARLEY_TRY_ASSIGN(s.max_header_bytes, parse_int(env, "MAX_HEADER_BYTES", 16384, 1024, 1 << 20));
  PARLEY_TRY_ASSIGN(s.sqlite_cache_mb, parse_int(env, "SQLITE_CACHE_MB", 64, 1, 1 << 20));
  PARLEY_TRY_ASSIGN(s.sqlite_mmap_mb, parse_int(env, "SQLITE_MMAP_MB", 0, 0, 1 << 20));
  PARLEY_TRY_ASSIGN(s.sqlite_checkpoint_pages,
                    parse_int(env, "SQLITE_CHECKPOINT_PAGES", 4000, 100, 1 << 24));
  PARLEY_TRY_ASSIGN(s.json_max_depth, parse_int(env, "JSON_MAX_DEPTH", 64, 1, 1000));
  auto ms = [&](const char* key,
                std::chrono::milliseconds& dst) -> tl::expected<void, std::string> {
    auto r = parse_int(env, key, dst.count(), 1, 3600000);
    if (!r) return tl::unexpected(r.error());
    dst = std::chrono::milliseconds{*r};
    return {};
  };
  for (auto [key, dst] : {std::pair{"PING_INTERVAL_MS", &s.ping_interval},
                          std::pair{"PING_TIMEOUT_MS", &s.ping_timeout},
                          std::pair{"CONNECT_TIMEOUT_MS", &s.connect_timeout},
                          std::pair{"HEADERS_TIMEOUT_MS", &s.headers_timeout},
                          std::pair{"AUTH_CACHE_MS", &s.auth_cache},
                          std::pair{"KEEPALIVE_TIMEOUT_MS", &s.keepalive_timeout},
                          std::pair{"REQUEST_TIMEOUT_MS", &s.request_timeout},
                          std::pair{"SHUTDOWN_TIMEOUT_MS", &s.shutdown_timeout},
                          std::pair{"LINGER_TIMEOUT_MS", &s.linger_timeout},
                          std::pair{"CLUSTER_NODE_TTL_MS", &s.cluster_node_ttl}}) {
    if (auto r = ms(key, *dst); !r) return Fail(r.error());
  }
  {
    // One node publishes its commits in commit order: nothing to wait for.
    const int fallback = s.redis_url.empty() ? 0 : 250;
    int reorder_ms = 0;
    PARLEY_TRY_ASSIGN(reorder_ms, parse_int(env, "DELIVERY_REORDER_MS", fallback, 0, 60000));
    s.delivery_reorder_wait = std::chrono::milliseconds(reorder_ms);
  }
  PARLEY_TRY_ASSIGN(s.rate_limit_auth_per_min,
                    parse_int(env, "RATE_LIMIT_AUTH_PER_MIN", 20, 1, 1000000));
  PARLEY_TRY_ASSIGN(s.rate_limit_messages_per_sec,
                    parse_int(env, "RATE_LIMIT_MESSAGES_PER_SEC", 20, 1, 1000000));
  PARLEY_TRY_ASSIGN(s.rate_limit_messages_burst,
                    parse_int(env, "RATE_LIMIT_MESSAGES_BURST", 50, 1, 1000000));
  PARLEY_TRY_ASSIGN(s.rate_limit_disabled, parse_bool(env, "RATE_LIMIT_DISABLED", false));
  PARLEY_TRY_ASSIGN(s.max_sockets_per_user, parse_int(env, "MAX_SOCKETS_PER_USER", 10, 1, 100000));
  PARLEY_TRY_ASSIGN(s.max_group_members, parse_int(env, "MAX_GROUP_MEMBERS", 256, 2, 100000));
  if (const auto* v = find(env, "PRESENCE_SCOPE")) {
    const std::string t = trim(*v);
    if (t != "all" && t != "contacts") {
      return Fail(fmt::format("PRESENCE_SCOPE must be all or contacts (got \"{}\")", *v));
    }
    s.presence_contacts_only = t == "contacts";
  }
  PARLEY_TRY_ASSIGN(s.max_connections_per_ip,
                    parse_int(env, "MAX_CONNECTIONS_PER_IP", 1000, 1, 10000000));
  PARLEY_TRY_ASSIGN(s.max_connections, parse_int(env, "MAX_CONNECTIONS", 20000, 1, 10000000));
  s.max_connections_set = find(env, "MAX_CONNECTIONS") != nullptr;
  PARLEY_TRY_ASSIGN(s.linger_max_bytes,
                    parse_int(env, "LINGER_MAX_BYTES", 8 * 1024 * 1024, 0, 1LL << 32));
  PARLEY_TRY_ASSIGN(s.ws_allow_any_origin, parse_bool(env, "WS_ALLOW_ANY_ORIGIN", false));
  PARLEY_TRY_ASSIGN(s.max_payload_bytes, parse_int(env, "MAX_PAYLOAD_BYTES", 1000000, 1, 1 << 30));
  PARLEY_TRY_ASSIGN(s.socket_max_attachments,
                    parse_int(env, "SOCKET_MAX_ATTACHMENTS", 10, 0, 1000));
  PARLEY_TRY_ASSIGN(s.socket_max_attachment_bytes,
                    parse_int(env, "SOCKET_MAX_ATTACHMENT_BYTES", 1 << 20, 0, 1LL << 32));
  PARLEY_TRY_ASSIGN(s.max_pending_sessions_per_ip,
                    parse_int(env, "MAX_PENDING_SESSIONS_PER_IP", 256, 1, 10000000));
  PARLEY_TRY_ASSIGN(s.handshakes_per_ip_per_sec,
                    parse_int(env, "HANDSHAKES_PER_IP_PER_SEC", 50, 1, 10000000));
  PARLEY_TRY_ASSIGN(s.handshakes_per_ip_burst,
                    parse_int(env, "HANDSHAKES_PER_IP_BURST", 500, 1, 10000000));
  PARLEY_TRY_ASSIGN(s.socket_queue_max_packets,
                    parse_int(env, "SOCKET_QUEUE_MAX_PACKETS", 65536, 1, 10000000));
  PARLEY_TRY_ASSIGN(s.socket_queue_max_bytes,
                    parse_int(env, "SOCKET_QUEUE_MAX_BYTES", 8 * 1024 * 1024, 1024, 1LL << 32));
  PARLEY_TRY_ASSIGN(s.protocol_test_mode, parse_bool(env, "PROTOCOL_TEST_MODE", false));
  if (s.protocol_test_mode && s.production) {
    return Fail("PROTOCOL_TEST_MODE is for tests and is refused when NODE_ENV=production");
  }
#undef PARLEY_TRY_ASSIGN
  return s;
}

tl::expected<std::string, std::string> dev_jwt_secret(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path file = fs::path(dir) / "jwt-secret";
  if (std::ifstream in(file); in) {
    std::string secret;
    std::getline(in, secret);
    if (secret.size() >= 32) return secret;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return tl::unexpected(fmt::format("cannot create {}: {}", dir, ec.message()));
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret(64, '0');
  for (char& c : secret) c = kHex[rd() & 0xf];
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return tl::unexpected(fmt::format("cannot write {}", tmp.string()));
    out << secret << '\n';
  }
  ::chmod(tmp.c_str(), 0600);
  fs::rename(tmp, file, ec);
  if (ec) return tl::unexpected(fmt::format("cannot write {}: {}", file.string(), ec.message()));
  return secret;
}

}  // namespace parley::config
