// One connection to Redis (hiredis 0.14, blocking mode) for the broker's
// connection thread, which owns it and alone may touch it.
//
// Opening it (connect, AUTH, SELECT) blocks for at most the connect timeout
// plus one I/O timeout per command. After that the owner polls fd() and
// calls read_available() only when it is readable, so reads never wait;
// writes (flush) wait at most the I/O timeout (SO_SNDTIMEO), after which
// the connection counts as broken. Every error is returned as text for the
// log; nothing here throws.
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "cluster/redis/redis_url.hpp"

struct redisContext;
struct redisReply;

namespace parley::cluster {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// What a reply holds, without hiredis's header.
enum class RedisReplyKind { string, array, integer, nil, status, error, other };
RedisReplyKind kind_of(const redisReply& reply);
std::string_view text_of(const redisReply& reply);  // string, status, error
std::size_t size_of(const redisReply& reply);       // array elements
const redisReply& element(const redisReply& reply, std::size_t i);

class RedisConnection {
 public:
  struct Timeouts {
    std::chrono::milliseconds connect;
    std::chrono::milliseconds io;
  };

  // Connects, authenticates and selects the URL's database.
  static tl::expected<RedisConnection, std::string> open(const RedisUrl& url, Timeouts timeouts);

  RedisConnection(RedisConnection&&) noexcept = default;
  RedisConnection& operator=(RedisConnection&&) noexcept = default;
  ~RedisConnection() = default;

  int fd() const;

  // Adds a command to the output buffer (nothing is sent yet).
  void append(std::initializer_list<std::string_view> args);
  void append(std::span<const std::string_view> args);
  // Sends the output buffer; an error means the connection is broken.
  tl::expected<void, std::string> flush();
  // One read from the socket into the reply parser: call it when fd() is
  // readable. An error (including the server closing) means broken.
  tl::expected<void, std::string> read_available();
  // The next complete reply already read, or null when there is none yet.
  tl::expected<RedisReply, std::string> next_reply();
  // Sends one command and waits (up to the I/O timeout) for its reply.
  tl::expected<RedisReply, std::string> command(std::initializer_list<std::string_view> args);

 private:
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  explicit RedisConnection(redisContext* context) : context_(context) {}
  std::string error_text() const;

  std::unique_ptr<redisContext, ContextDeleter> context_;
};

}  // namespace parley::cluster
