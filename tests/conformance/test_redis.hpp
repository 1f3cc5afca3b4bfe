// Redis for the conformance tests.
// - shared_redis_url(): the redis-server the ctest fixture started for this
//   build tree (redis_fixture.sh; ctest sets PARLEY_TEST_REDIS_DIR and the
//   fixture writes DIR/url), or PARLEY_TEST_REDIS_URL when set by hand.
// - PrivateRedis: a redis-server of one test's own, for the tests that kill
//   and restart it (the shared one serves tests running in parallel).
// Without Redis the tests that need it fail when CI is set, and are skipped
// with the reason printed otherwise (PARLEY_REQUIRE_REDIS).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <tl/expected.hpp>

#include "cluster/redis/redis_broker.hpp"

namespace parley::test {

// How long a test waits for an event (a delivery, a reconnect) before it
// fails: far above what any of them takes, so only a bug reaches it, even
// under the sanitizers on a busy machine.
inline constexpr std::chrono::seconds kEventDeadline{20};

// For a state with no event to wait on (a counter, a link's state): checks
// it every few milliseconds until kEventDeadline; false if it never held.
template <typename Predicate>
bool wait_until(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + kEventDeadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool in_ci();

tl::expected<std::string, std::string> shared_redis_url();

// A fresh channel prefix, so tests sharing one Redis never hear each other.
std::string unique_prefix();

// A broker's options for tests: quick reconnects and failure detection.
cluster::RedisBrokerOptions test_broker_options(const std::string& url, const std::string& prefix);

// In SetUp() or a test body: `error` empty means Redis is there.
#define PARLEY_REQUIRE_REDIS(error)                                    \
  do {                                                                 \
    if (const std::string& why_ = (error); !why_.empty()) {            \
      if (::parley::test::in_ci()) FAIL() << "Redis needed: " << why_; \
      GTEST_SKIP() << "Redis needed (failed in CI): " << why_;         \
    }                                                                  \
  } while (false)

class PrivateRedis {
 public:
  // Starts a redis-server (the one found at configure time) on a free
  // loopback port, in a directory of its own; error() says why not.
  PrivateRedis();
  ~PrivateRedis();
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  const std::string& error() const { return error_; }
  std::string url() const;
  std::uint16_t port() const { return port_; }

  // SIGKILL, as a crash would, then reaps it.
  void kill();
  // Starts it again on the same port; returns the error, or empty.
  std::string start();

 private:
  std::string spawn();
  std::string wait_ready();

  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace parley::test
