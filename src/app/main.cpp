// parleyd: the composition root. Reads the settings, builds the layers from
// the bottom up (store, auth, chat, api, http), runs until SIGINT/SIGTERM,
// then shuts down in order: stop accepting, let in-flight requests finish,
// drain the store's writer, join the pools.
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "api/api.hpp"
#include "api/chat_sockets.hpp"
#include "api/protocol_test_app.hpp"
#include "auth/accounts.hpp"
#include "auth/password.hpp"
#include "chat/delivery.hpp"
#include "chat/directory.hpp"
#include "chat/groups.hpp"
#include "chat/messenger.hpp"
#include "cluster/local/local_broker.hpp"
#include "cluster/local/local_presence.hpp"
#include "cluster/local/local_rate_limit.hpp"
#include "cluster/redis/redis_broker.hpp"
#include "cluster/redis/redis_commands.hpp"
#include "cluster/redis/redis_presence.hpp"
#include "cluster/redis/redis_rate_limit.hpp"
#include "config/settings.hpp"
#include "core/rate_limiter.hpp"
#include "engineio/server.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_site.hpp"
#include "net/io_pool.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "socketio/server.hpp"
#include "store/pg/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

#ifndef PARLEY_VERSION
#define PARLEY_VERSION "0.0.0"
#endif

namespace {

using namespace parley;

constexpr int kConfigError = 2;
constexpr auto kPurgeEvery = std::chrono::hours(1);

// The directory of the web client to serve: WEB_ROOT when set (empty: none),
// else the first of kWebRootBesideBinary that exists beside this executable.
std::optional<std::filesystem::path> web_root(const config::Settings& settings) {
  namespace fs = std::filesystem;
  if (settings.web_root) {
    if (settings.web_root->empty()) return std::nullopt;
    return fs::path(*settings.web_root);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  for (const auto rel : config::kWebRootBesideBinary) {
    const fs::path dir = exe.parent_path() / rel;
    if (fs::is_directory(dir, ec)) return dir.lexically_normal();
  }
  return std::nullopt;
}

int config_error(const std::string& message) {
  std::fprintf(stderr, "parleyd: %s\n", message.c_str());
  return kConfigError;
}

// Descriptors the server needs besides client connections and the store's:
// the event loops, the listener, logs.
constexpr long long kReservedFds = 128;

// The store's descriptors: SQLite, the database files of each reader (db,
// WAL, shared memory); PostgreSQL, one socket per connection (the pool and
// the writer).
long long store_fds(const config::Settings& settings) {
  if (settings.store == config::StoreKind::postgres) return settings.pg_pool_size + 1LL;
  return settings.db_readers * 3LL;
}

// Raises the soft open-files limit to the hard one and checks that
// MAX_CONNECTIONS fits under it (each connection is one descriptor). An
// unset MAX_CONNECTIONS is lowered to fit; a set one that does not fit is a
// configuration error. Returns the error text, or empty.
std::string fit_open_files(config::Settings& settings, std::string& warning) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY) return {};
  const auto limit = static_cast<long long>(lim.rlim_cur);
  const long long needed = settings.max_connections + kReservedFds + store_fds(settings);
  if (needed <= limit) return {};
  const long long fits = limit - kReservedFds - store_fds(settings);
  if (settings.max_connections_set || fits < 1) {
    return fmt::format(
        "MAX_CONNECTIONS={} needs about {} open files but the limit is {} (ulimit -n); lower "
        "MAX_CONNECTIONS to {} or less, or raise the limit",
        settings.max_connections, needed, limit, std::max(fits, 0LL));
  }
  warning = fmt::format("MAX_CONNECTIONS lowered from {} to {} to fit the open files limit ({})",
                        settings.max_connections, fits, limit);
  settings.max_connections = static_cast<int>(fits);
  return {};
}

// Blocks SIGINT/SIGTERM in this thread and every thread it starts later, so
// that only wait_for_signal() receives them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

std::string redis_state_metrics(const cluster::RedisCommands& link) {
  const auto& s = link.stats();
  return fmt::format(
      "# HELP parley_redis_state_connected 1 while the link for the counts the nodes share "
      "(presence, socket and rate limits) is up.\n"
      "# TYPE parley_redis_state_connected gauge\nparley_redis_state_connected {}\n"
      "# HELP parley_redis_state_commands_total Commands of that link, by outcome "
      "(answered; unanswered: a link broke; not_sent: down or queue full, answered by this "
      "node alone).\n"
      "# TYPE parley_redis_state_commands_total counter\n"
      "parley_redis_state_commands_total{{outcome=\"answered\"}} {}\n"
      "parley_redis_state_commands_total{{outcome=\"unanswered\"}} {}\n"
      "parley_redis_state_commands_total{{outcome=\"not_sent\"}} {}\n",
      link.connected() ? 1 : 0, s.answered.load(), s.unanswered.load(), s.not_sent.load());
}

std::string redis_broker_metrics(const cluster::RedisBroker& broker) {
  const auto& s = broker.stats();
  return fmt::format(
      "# HELP parley_broker_redis_connected 1 while connected to Redis with every channel "
      "subscribed.\n"
      "# TYPE parley_broker_redis_connected gauge\nparley_broker_redis_connected {}\n"
      "# HELP parley_broker_redis_published_total Publications Redis accepted.\n"
      "# TYPE parley_broker_redis_published_total counter\n"
      "parley_broker_redis_published_total {}\n"
      "# HELP parley_broker_redis_received_total Publications received from other nodes.\n"
      "# TYPE parley_broker_redis_received_total counter\n"
      "parley_broker_redis_received_total {}\n"
      "# HELP parley_broker_redis_dropped_total Publications not sent or not delivered, by "
      "reason.\n"
      "# TYPE parley_broker_redis_dropped_total counter\n"
      "parley_broker_redis_dropped_total{{reason=\"queue_full\"}} {}\n"
      "parley_broker_redis_dropped_total{{reason=\"in_flight\"}} {}\n"
      "parley_broker_redis_dropped_total{{reason=\"delivery_behind\"}} {}\n"
      "# HELP parley_broker_redis_connects_total Connections to Redis established.\n"
      "# TYPE parley_broker_redis_connects_total counter\nparley_broker_redis_connects_total {}\n"
      "# HELP parley_broker_redis_connect_failures_total Connection attempts that failed.\n"
      "# TYPE parley_broker_redis_connect_failures_total counter\n"
      "parley_broker_redis_connect_failures_total {}\n",
      broker.connected() ? 1 : 0, s.published.load(), s.received.load(), s.queue_dropped.load(),
      s.lost_in_flight.load(), s.delivery_dropped.load(), s.connects.load(),
      s.connect_failures.load());
}

void purge_revocations(store::Store& store) {
  store.purge_revocations(core::now_ms(), [](core::Result<std::size_t> r) {
    if (!r)
      obs::log(obs::Level::warn, "purging revoked tokens: {}", r.error().detail);
    else if (*r > 0)
      obs::log(obs::Level::info, "purged {} expired token revocations", *r);
  });
}

std::string batch_metrics(std::uint64_t commits, std::uint64_t writes, std::uint64_t largest) {
  return fmt::format(
      "# HELP parley_store_commits_total Write transactions committed (group commits).\n"
      "# TYPE parley_store_commits_total counter\nparley_store_commits_total {}\n"
      "# HELP parley_store_writes_total Writes committed in them.\n"
      "# TYPE parley_store_writes_total counter\nparley_store_writes_total {}\n"
      "# HELP parley_store_largest_batch Most writes committed in one transaction.\n"
      "# TYPE parley_store_largest_batch gauge\nparley_store_largest_batch {}\n",
      commits, writes, largest);
}

// The store DATABASE_URL names (PostgreSQL for postgres:// URLs, SQLite
// otherwise), with its metrics registered.
tl::expected<std::unique_ptr<store::Store>, std::string> open_store(
    const config::Settings& settings, obs::Metrics& metrics) {
  if (settings.store == config::StoreKind::postgres) {
    auto opened = store::pg::PgStore::open({settings.database_url, settings.pg_pool_size});
    if (!opened) return tl::unexpected(opened.error());
    const store::pg::PgStore* pg = opened->get();
    metrics.collector([pg] {
      const auto& s = pg->stats();
      return batch_metrics(s.batches.load(), s.writes.load(), s.largest_batch.load()) +
             fmt::format(
                 "# HELP parley_store_retried_batches_total Write transactions run again after "
                 "a deadlock with another node's.\n"
                 "# TYPE parley_store_retried_batches_total counter\n"
                 "parley_store_retried_batches_total {}\n",
                 s.retried_batches.load());
    });
    return std::unique_ptr<store::Store>(std::move(*opened));
  }
  auto opened = store::sqlite::SqliteStore::open(
      {settings.sqlite_path,
       settings.sqlite_synchronous,
       settings.db_readers,
       {settings.sqlite_cache_mb << 20, settings.sqlite_mmap_mb << 20},
       settings.sqlite_checkpoint_pages});
  if (!opened) return tl::unexpected(opened.error());
  const store::sqlite::SqliteStore* sqlite = opened->get();
  metrics.collector([sqlite] {
    const auto& s = sqlite->stats();
    return batch_metrics(s.batches.load(), s.writes.load(), s.largest_batch.load()) +
           fmt::format(
               "# HELP parley_store_checkpoints_total WAL checkpoints run by the background "
               "thread.\n"
               "# TYPE parley_store_checkpoints_total counter\nparley_store_checkpoints_total "
               "{}\n",
               s.checkpoints.load());
  });
  return std::unique_ptr<store::Store>(std::move(*opened));
}

int run() {
  const sigset_t stop_signals = block_stop_signals();

  auto loaded = config::load_settings(config::read_process_env());
  if (!loaded) return config_error(loaded.error());
  config::Settings settings = std::move(*loaded);

  if (settings.jwt_secret.empty()) {
    auto secret = config::dev_jwt_secret("./data");
    if (!secret) return config_error(secret.error());
    settings.jwt_secret = std::move(*secret);
    settings.jwt_secret_generated = true;
  }

  std::optional<cluster::RedisUrl> redis_url;
  if (!settings.redis_url.empty()) {
    auto parsed = cluster::parse_redis_url(settings.redis_url);
    if (!parsed) return config_error(parsed.error());
    redis_url = std::move(*parsed);
  }

  std::string fd_warning;
  if (auto err = fit_open_files(settings, fd_warning); !err.empty()) return config_error(err);

  obs::init_logging(settings.log_level, settings.production);
  if (!fd_warning.empty()) obs::log(obs::Level::warn, "{}", fd_warning);
  if (settings.jwt_secret_generated) {
    obs::log(obs::Level::warn, "JWT_SECRET is not set: using a generated secret kept in ./data/");
  }

  obs::Metrics metrics;
  auto opened = open_store(settings, metrics);
  if (!opened) {
    obs::shutdown_logging();
    return config_error("database: " + opened.error());
  }
  std::unique_ptr<store::Store> db = std::move(*opened);

  auth::PasswordHasher hasher(settings.bcrypt_rounds, settings.cpu_threads);
  auth::Accounts accounts(*db, hasher, auth::Jwt(settings.jwt_secret, settings.jwt_leeway_seconds),
                          settings.jwt_expires_in, settings.auth_cache);
  // What the nodes of a deployment must agree on: each user's sockets
  // (presence, MAX_SOCKETS_PER_USER) and message rate. One node: counted
  // here. REDIS_URL: counted in Redis, through one command link of its own.
  std::unique_ptr<cluster::RedisCommands> state_link;
  std::unique_ptr<cluster::PresenceRegistry> presence;
  std::unique_ptr<cluster::RateLimit> send_limiter;
  if (redis_url) {
    state_link = std::make_unique<cluster::RedisCommands>(cluster::RedisCommandsOptions{
        .url = *redis_url,
        .tick = std::max(settings.cluster_node_ttl / 3, std::chrono::milliseconds(100))});
    presence = std::make_unique<cluster::RedisPresence>(*state_link, settings.redis_prefix,
                                                        settings.cluster_node_ttl);
    metrics.collector([&link = *state_link] { return redis_state_metrics(link); });
    send_limiter = std::make_unique<cluster::RedisRateLimit>(
        *state_link, settings.redis_prefix, "messages", settings.rate_limit_messages_per_sec,
        settings.rate_limit_messages_burst, !settings.rate_limit_disabled);
  } else {
    presence = std::make_unique<cluster::LocalPresence>();
    send_limiter = std::make_unique<cluster::LocalRateLimit>(settings.rate_limit_messages_per_sec,
                                                             settings.rate_limit_messages_burst,
                                                             !settings.rate_limit_disabled);
  }
  chat::Directory directory(*db, *presence);
  core::RateLimiter auth_limiter(settings.rate_limit_auth_per_min / 60.0,
                                 settings.rate_limit_auth_per_min, !settings.rate_limit_disabled);
  chat::Messenger messenger(*db, *send_limiter);
  chat::Groups groups(*db, static_cast<std::size_t>(settings.max_group_members));

  // Typing indicators are relayed, never stored: a few a second is plenty.
  core::RateLimiter typing_limiter(5, 10, !settings.rate_limit_disabled);
  api::ChatSocketOptions copt;
  copt.cookie_name = settings.cookie_name;
  copt.max_sockets_per_user = static_cast<std::size_t>(settings.max_sockets_per_user);
  copt.revalidate_every = std::max(settings.auth_cache, std::chrono::milliseconds(1000));
  copt.presence_contacts_only = settings.presence_contacts_only;
  copt.reorder_wait = settings.delivery_reorder_wait;
  // One node: LocalBroker. REDIS_URL: RedisBroker, which connects in the
  // background (the node serves its own sockets while Redis is down).
  std::unique_ptr<cluster::Broker> broker_owner;
  if (redis_url) {
    obs::log(obs::Level::info, "broker: Redis at {}, channels {}*", cluster::describe(*redis_url),
             settings.redis_prefix);
    auto redis = std::make_unique<cluster::RedisBroker>(
        cluster::RedisBrokerOptions{.url = *redis_url, .prefix = settings.redis_prefix});
    metrics.collector([&redis_broker = *redis] { return redis_broker_metrics(redis_broker); });
    broker_owner = std::move(redis);
  } else {
    broker_owner = std::make_unique<cluster::LocalBroker>();
  }
  cluster::Broker& broker = *broker_owner;
  chat::Delivery delivery(*db, broker);
  messenger.set_events(&delivery);
  groups.set_events(&delivery);
  api::ChatSockets chat_sockets(copt, accounts, messenger, delivery, directory, *presence,
                                typing_limiter, broker);
  delivery.set_sink(&chat_sockets);
  if (state_link) state_link->start();

  api::ApiOptions aopt{
      settings.cookie_name,
      settings.cookie_secure,
      PARLEY_VERSION,
      [&chat_sockets](const std::string& jti, std::int64_t exp) { chat_sockets.revoked(jti, exp); },
      settings.json_max_depth,
      {}};
  if (redis_url) {
    // Both links: Pub/Sub for events, the command link for shared counts.
    aopt.broker_connected = [&broker, &state_link] {
      return static_cast<const cluster::RedisBroker&>(broker).connected() &&
             state_link->connected();
    };
  }
  api::Api api(aopt, accounts, directory, messenger, groups, metrics, auth_limiter);
  http::Router router;
  api.mount(router);
  // The web client, served at "/" from memory; the API's prefixes keep
  // their meaning (and their JSON 404s).
  std::optional<http::StaticSite> site;
  if (const auto root = web_root(settings)) {
    auto client = http::StaticSite::load(*root, http::StaticSiteLimits{settings.web_max_bytes},
                                         {"/api", "/socket.io", "/engine.io", "/metrics"});
    if (!client) {
      obs::shutdown_logging();
      return config_error(client.error().detail);
    }
    site = std::move(*client);
    // The handler signature is shared by all routes; this one answers at once.
    router.set_fallback([&site](const http::Request& req,
                                http::Reply reply) {  // NOLINT(performance-unnecessary-value-param)
      reply(site->respond(req));
    });
    obs::log(obs::Level::info, "serving the web client from {} ({} files, {} bytes)",
             root->string(), site->file_count(), site->total_bytes());
  }

  net::IoPool io(settings.threads);
  http::ServerOptions sopt;
  sopt.host = settings.host;
  sopt.port = settings.port;
  sopt.body_limit = settings.body_limit_bytes;
  sopt.header_limit = settings.max_header_bytes;
  sopt.headers_timeout = settings.headers_timeout;
  sopt.keepalive_timeout = settings.keepalive_timeout;
  sopt.request_timeout = settings.request_timeout;
  sopt.max_connections = static_cast<std::size_t>(settings.max_connections);
  sopt.trust_proxy = settings.trust_proxy;
  sopt.hsts = settings.cookie_secure;
  sopt.cors_origins = settings.client_urls;
  sopt.cors_any_origin = settings.protocol_test_mode;
  // Polling bodies may carry a whole maxPayload; Engine.IO itself answers
  // 413 and closes the session above maxPayload.
  sopt.linger_max_bytes = settings.linger_max_bytes;
  sopt.linger_timeout = settings.linger_timeout;
  sopt.ws_any_origin = settings.ws_allow_any_origin || settings.protocol_test_mode;
  sopt.body_limits = {{"/socket.io", 2 * settings.max_payload_bytes},
                      {"/engine.io", 2 * settings.max_payload_bytes}};

  // Real time: Engine.IO sessions carrying Socket.IO.
  engineio::Options eopt;
  eopt.ping_interval = settings.ping_interval;
  eopt.ping_timeout = settings.ping_timeout;
  eopt.max_payload = settings.max_payload_bytes;
  eopt.max_queue_packets = static_cast<std::size_t>(settings.socket_queue_max_packets);
  eopt.max_queue_bytes = settings.socket_queue_max_bytes;
  eopt.max_sessions = static_cast<std::size_t>(settings.max_connections);
  eopt.max_sessions_per_ip = static_cast<std::size_t>(settings.max_connections_per_ip);
  eopt.max_pending_sessions_per_ip = static_cast<std::size_t>(settings.max_pending_sessions_per_ip);
  eopt.handshakes_per_ip_per_sec = settings.handshakes_per_ip_per_sec;
  eopt.handshakes_per_ip_burst = settings.handshakes_per_ip_burst;
  eopt.handshake_rate_limited = !settings.rate_limit_disabled;
  socketio::Options sio_opt;
  sio_opt.max_attachments = static_cast<std::size_t>(settings.socket_max_attachments);
  sio_opt.connect_timeout = settings.connect_timeout;
  sio_opt.max_json_depth = settings.json_max_depth;
  sio_opt.max_attachment_bytes = settings.socket_max_attachment_bytes;
  api::ProtocolTestApp test_app;
  socketio::Application& sio_app =
      settings.protocol_test_mode ? static_cast<socketio::Application&>(test_app) : chat_sockets;
  socketio::Server sio(sio_opt, sio_app);
  chat_sockets.attach(sio);
  engineio::Server eio(eopt, io, metrics, sio.handler_factory());
  eio.mount(router, "/socket.io");
  std::unique_ptr<engineio::Server> echo;
  if (settings.protocol_test_mode) {
    echo = std::make_unique<engineio::Server>(eopt, io, metrics, api::engineio_echo_factory());
    echo->mount(router, "/engine.io");
  }

  http::Server server(sopt, io, router, metrics);
  server.on_upgrade("/socket.io", eio.upgrade_handler());
  if (echo) server.on_upgrade("/engine.io", echo->upgrade_handler());
  if (auto err = server.start(); !err.empty()) {
    obs::shutdown_logging();
    return config_error(err);
  }
  io.start();
  purge_revocations(*db);
  // Not the PostgreSQL URL: it may hold a password.
  obs::log(obs::Level::info, "parleyd {} listening on http://{}:{} ({} I/O threads, {})",
           PARLEY_VERSION, settings.host, server.port(), io.size(),
           settings.store == config::StoreKind::postgres ? std::string("PostgreSQL")
                                                         : "SQLite " + settings.sqlite_path);

  // Wait for a stop signal, purging expired revocations now and then.
  auto next_purge = std::chrono::steady_clock::now() + kPurgeEvery;
  int sig = 0;
  for (;;) {
    const timespec tick{1, 0};
    sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (std::chrono::steady_clock::now() >= next_purge) {
      purge_revocations(*db);
      next_purge += kPurgeEvery;
    }
  }
  obs::log(obs::Level::info, "received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");

  server.stop();
  const auto deadline = std::chrono::steady_clock::now() + settings.shutdown_timeout;
  // Every session hears its close before the I/O threads stop (io.stop()
  // drops what is still queued), and before the broker and the store go.
  bool closed = eio.close_all(deadline);
  if (echo) closed = echo->close_all(deadline) && closed;
  if (!closed) {
    obs::log(obs::Level::warn, "Engine.IO sessions still closing at the shutdown deadline");
  }
  while (server.connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (server.connections() > 0) {
    obs::log(obs::Level::warn, "{} connections still open at the shutdown deadline",
             server.connections());
  }
  if (state_link) state_link->stop();
  broker.stop();
  db->close();
  hasher.stop();
  io.stop();
  obs::log(obs::Level::info, "stopped");
  obs::shutdown_logging();
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parleyd: fatal: %s\n", e.what());
    return 1;
  }
}
