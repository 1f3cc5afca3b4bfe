// parley::config: every setting Parley reads, with its default and why.
// Settings come from the environment or a `.env` file in the working
// directory (the real environment wins). `.env.example` at the repository
// root lists the same settings; keep the two in step.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace parley::config {

enum class StoreKind { sqlite, postgres };

// Longest REDIS_PREFIX: a channel name is the prefix plus a short name, and
// Redis sends the whole name with every message.
inline constexpr std::size_t kMaxRedisPrefixBytes = 64;

struct Settings {
  // --- listening
  std::string host = "0.0.0.0";
  std::uint16_t port = 4000;  // 0 picks a free port (tests)
  // I/O threads running the event loop; default: hardware cores.
  unsigned threads = 0;
  // Threads hashing passwords (bcrypt); default: hardware cores.
  unsigned cpu_threads = 0;

  // --- storage
  StoreKind store = StoreKind::sqlite;
  std::string database_url;  // as given
  std::string sqlite_path = "./data/parley.db";
  // SQLite synchronous mode: "full" makes every acknowledged write survive a
  // machine crash (the contract's default); "normal" only a process crash.
  std::string sqlite_synchronous = "full";
  unsigned db_readers = 2;  // SQLite read connections (WAL readers)
  // Per SQLite connection (the writer and each reader): page cache, and a
  // memory-mapped span (off by default: with a map, an I/O error on the
  // file is a SIGBUS instead of an error the store can answer).
  std::size_t sqlite_cache_mb = 64;
  std::size_t sqlite_mmap_mb = 0;
  // WAL frames (pages) written since the last checkpoint that wake the
  // background checkpointer (SQLITE_CHECKPOINT_PAGES).
  std::size_t sqlite_checkpoint_pages = 4000;
  // PostgreSQL read connections, each with its own thread (PG_POOL_SIZE);
  // writes go through one more connection. Each is a server process on the
  // database's side: a few per node keep reads off the I/O threads without
  // crowding the server's max_connections when several nodes share it.
  unsigned pg_pool_size = 4;

  // --- cluster
  // Empty: one node, events stay in the process (LocalBroker). Set
  // (redis://[:password@]host:port[/db]): nodes share events through Redis
  // Pub/Sub (RedisBroker); the URL itself is checked when the broker is made.
  std::string redis_url;
  // Prefix of the Redis channels, so that deployments sharing one Redis do
  // not hear each other (Pub/Sub ignores the database number).
  std::string redis_prefix = "parley:";
  // With REDIS_URL: how long a node's sockets keep counting for presence and
  // MAX_SOCKETS_PER_USER after its last heartbeat (it sends one every third
  // of this). A node killed without a word has its users go offline then.
  std::chrono::milliseconds cluster_node_ttl{15000};
  // How long a live message waits for the messages of its conversation
  // below it that have not reached this node yet (several nodes writing
  // one conversation), so each device gets them in seq order; 0: never.
  // Default 250 ms with REDIS_URL, 0 on one node (commit order is
  // publication order there).
  std::chrono::milliseconds delivery_reorder_wait{0};

  // --- auth
  std::string jwt_secret;
  bool jwt_secret_generated = false;  // dev only: kept under ./data/
  std::chrono::seconds jwt_expires_in{7 * 24 * 3600};
  std::string cookie_name = "token";
  bool cookie_secure = false;
  int bcrypt_rounds = 12;
  // Tolerance for a token's `nbf` (clock skew between issuers), seconds.
  int jwt_leeway_seconds = 5;
  // How long a verified token is trusted without asking the store again
  // (0: always ask). Revocations on this node apply at once regardless.
  std::chrono::milliseconds auth_cache{10000};

  // --- environment
  bool production = false;
  std::string node_env = "development";
  std::string log_level = "info";
  std::vector<std::string> client_urls;  // CORS allow-list (CLIENT_URL)
  // Use the first X-Forwarded-For address as the client IP (behind a proxy).
  bool trust_proxy = false;

  // --- limits
  std::size_t body_limit_bytes = 102400;              // Express's default
  std::size_t max_header_bytes = 16384;               // Node's default
  std::chrono::milliseconds headers_timeout{10000};   // first request's head
  std::chrono::milliseconds keepalive_timeout{5000};  // idle between requests
  std::chrono::milliseconds request_timeout{30000};   // body of a request
  std::chrono::milliseconds shutdown_timeout{10000};  // in-flight drain on stop
  // Deepest nesting of arrays and objects in any JSON a peer sends (request
  // bodies, Socket.IO payloads); deeper is invalid JSON. The contract needs 3.
  std::size_t json_max_depth = 64;
  int rate_limit_auth_per_min = 20;
  double rate_limit_messages_per_sec = 20;
  int rate_limit_messages_burst = 50;
  bool rate_limit_disabled = false;
  int max_sockets_per_user = 10;
  // Members a group may have, its owner included (MAX_GROUP_MEMBERS).
  int max_group_members = 256;
  // Who hears a user's presence (user:online, user:offline, users:online):
  // every connected user ("all", the contract's behaviour), or only users
  // who share a conversation with them ("contacts").
  bool presence_contacts_only = false;
  int max_connections_per_ip = 1000;
  int max_connections = 20000;  // all clients together
  // Whether MAX_CONNECTIONS was given: if not, it is lowered to fit the open
  // files limit; if it was and does not fit, parleyd refuses to start.
  bool max_connections_set = false;
  // Lingering close after 413/431: bytes read and dropped, and for how long.
  std::size_t linger_max_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds linger_timeout{5000};
  // WebSocket upgrades from an Origin outside CLIENT_URL are refused unless
  // this is set.
  bool ws_allow_any_origin = false;

  // --- the web client (http::StaticSite)
  // The built client's directory (WEB_ROOT). Unset: the `web` directory
  // installed beside parleyd, if there is one (kWebRootBesideBinary);
  // empty: no client is served.
  std::optional<std::string> web_root;
  // Bytes of the client held in memory, all files together (WEB_MAX_BYTES);
  // a larger WEB_ROOT refuses to start.
  std::size_t web_max_bytes = 64 * 1024 * 1024;

  // --- real time (Engine.IO / Socket.IO)
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds ping_timeout{20000};
  std::chrono::milliseconds connect_timeout{45000};   // to send a Socket.IO CONNECT
  std::size_t max_payload_bytes = 1000000;            // per message / polling body
  int socket_max_attachments = 10;                    // binary attachments per packet
  std::size_t socket_max_attachment_bytes = 1 << 20;  // buffered attachment bytes per packet
  // Unauthenticated sessions: per client IP, Engine.IO sessions whose peer
  // has not connected a namespace yet, and new sessions per second (burst).
  int max_pending_sessions_per_ip = 256;
  double handshakes_per_ip_per_sec = 50;
  int handshakes_per_ip_burst = 500;
  int socket_queue_max_packets = 65536;                  // outbound queue per session, packets ...
  std::size_t socket_queue_max_bytes = 8 * 1024 * 1024;  // ... and bytes
  // Test-only: behave as the server of the public protocol test suites.
  bool protocol_test_mode = false;
};

// Where parleyd looks for the client when WEB_ROOT is unset, relative to the
// directory of its own executable, in order: an installed tree
// (bin/parleyd beside share/parley/web), then a build tree (src/app/web,
// where scripts/run.sh builds it).
inline constexpr std::array<std::string_view, 2> kWebRootBesideBinary{"../share/parley/web", "web"};

using Env = std::map<std::string, std::string>;

// Parses `KEY=value` lines (comments, `export`, quotes) of a .env file.
Env parse_env_file(const std::string& text);

// Builds Settings from `env` (already merged: real environment over .env).
// On bad configuration returns one clear line for stderr.
tl::expected<Settings, std::string> load_settings(const Env& env);

// The process's environment merged over `./.env` when it exists.
Env read_process_env(const std::string& dotenv_path = ".env");

// Development only: reads the JWT secret kept in `dir`, or creates one.
tl::expected<std::string, std::string> dev_jwt_secret(const std::string& dir);

}  // namespace parley::config
