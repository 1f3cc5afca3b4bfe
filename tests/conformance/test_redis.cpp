#include "test_redis.hpp"

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#ifndef PARLEY_REDIS_SERVER
#define PARLEY_REDIS_SERVER "redis-server"
#endif

namespace parley::test {

namespace {

using Clock = std::chrono::steady_clock;

// Tries for another port when a fresh server could not take the first.
constexpr int kPortAttempts = 5;
// A restart or a start must answer within this.
constexpr std::chrono::seconds kStartDeadline{10};
// Between readiness probes of a starting server.
constexpr std::chrono::milliseconds kProbeInterval{10};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// A port nobody listens on right now (the kernel's pick).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// The server on `port` answers and is process `pid`, not another Redis that
// held the port first.
bool answers_as(std::uint16_t port, pid_t pid) {
  const timeval timeout{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (c == nullptr) return false;
  bool ours = false;
  if (c->err == 0) {
    redisSetTimeout(c, timeout);
    auto* reply = static_cast<redisReply*>(redisCommand(c, "INFO server"));
    if (reply != nullptr && reply->type == REDIS_REPLY_STRING) {
      ours = std::string_view(reply->str, reply->len).find(fmt::format("process_id:{}\r", pid)) !=
             std::string_view::npos;
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return ours;
}

}  // namespace

bool in_ci() {
  const std::string ci = env("CI");
  return !ci.empty() && ci != "0" && ci != "false";
}

tl::expected<std::string, std::string> shared_redis_url() {
  if (std::string url = env("PARLEY_TEST_REDIS_URL"); !url.empty()) return url;
  const std::string dir = env("PARLEY_TEST_REDIS_DIR");
  if (dir.empty()) {
    return tl::unexpected(std::string(
        "neither PARLEY_TEST_REDIS_DIR (set by ctest, which starts the redis.start fixture) nor "
        "PARLEY_TEST_REDIS_URL is set; run the tests through ctest or scripts/test.sh"));
  }
  std::ifstream in(dir + "/url");
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    return tl::unexpected(fmt::format(
        "{}/url is missing: the redis.start fixture did not start redis-server (see {}/redis.log)",
        dir, dir));
  }
  return url;
}

std::string unique_prefix() {
  std::random_device device;
  return fmt::format("parley-test:{:08x}{:08x}:", device(), device());
}

cluster::RedisBrokerOptions test_broker_options(const std::string& url, const std::string& prefix) {
  auto parsed = cluster::parse_redis_url(url);
  cluster::RedisBrokerOptions options;
  if (parsed) options.url = *parsed;
  options.prefix = prefix;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.io_timeout = std::chrono::milliseconds(2000);
  options.ping_interval = std::chrono::milliseconds(1000);
  options.backoff_floor = std::chrono::milliseconds(10);
  options.backoff_ceiling = std::chrono::milliseconds(200);
  return options;
}

PrivateRedis::PrivateRedis() {
  const std::string base = env("PARLEY_TEST_REDIS_DIR");
  std::string tmpl =
      (base.empty() ? std::filesystem::temp_directory_path().string() : base) + "/private-XXXXXX";
  std::filesystem::create_directories(std::filesystem::path(tmpl).parent_path());
  if (::mkdtemp(tmpl.data()) == nullptr) {
    error_ = fmt::format("mkdtemp {}: {}", tmpl, std::strerror(errno));
    return;
  }
  dir_ = tmpl;
  if (::access(PARLEY_REDIS_SERVER, X_OK) != 0) {
    error_ = fmt::format("{} is not there (Debian: redis-server)", PARLEY_REDIS_SERVER);
    return;
  }
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    port_ = free_port();
    error_ = start();
    if (error_.empty()) return;
  }
}

PrivateRedis::~PrivateRedis() {
  kill();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string PrivateRedis::url() const {
  return fmt::format("redis://127.0.0.1:{}", port_);
}

void PrivateRedis::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string PrivateRedis::start() {
  if (pid_ > 0) return "already running";
  if (std::string error = spawn(); !error.empty()) return error;
  std::string error = wait_ready();
  if (!error.empty()) kill();
  return error;
}

std::string PrivateRedis::spawn() {
  const std::string port = std::to_string(port_);
  const std::string log = dir_ + "/redis.log";
  std::vector<std::string> args{PARLEY_REDIS_SERVER,
                                "--port",
                                port,
                                "--bind",
                                "127.0.0.1",
                                "--dir",
                                dir_,
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--logfile",
                                log};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return fmt::format("fork: {}", std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec. The server dies
    // with the test process, even when a test crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return {};
}

std::string PrivateRedis::wait_ready() {
  const auto deadline = Clock::now() + kStartDeadline;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // reaped: nothing left to kill
      return fmt::format("redis-server exited at start (port {} taken?); see {}/redis.log", port_,
                         dir_);
    }
    if (answers_as(port_, pid_)) return {};
    std::this_thread::sleep_for(kProbeInterval);
  }
  return fmt::format("redis-server on port {} did not answer within {} s", port_,
                     kStartDeadline.count());
}

}  // namespace parley::test
