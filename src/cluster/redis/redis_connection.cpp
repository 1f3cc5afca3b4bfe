#include "cluster/redis/redis_connection.hpp"

#include <sys/time.h>

#include <vector>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

namespace parley::cluster {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

void RedisReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

void RedisConnection::ContextDeleter::operator()(redisContext* context) const {
  redisFree(context);
}

RedisReplyKind kind_of(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING: return RedisReplyKind::string;
    case REDIS_REPLY_ARRAY: return RedisReplyKind::array;
    case REDIS_REPLY_INTEGER: return RedisReplyKind::integer;
    case REDIS_REPLY_NIL: return RedisReplyKind::nil;
    case REDIS_REPLY_STATUS: return RedisReplyKind::status;
    case REDIS_REPLY_ERROR: return RedisReplyKind::error;
    default: return RedisReplyKind::other;
  }
}

std::string_view text_of(const redisReply& reply) {
  if (reply.str == nullptr) return {};
  return {reply.str, reply.len};
}

std::size_t size_of(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ARRAY ? reply.elements : 0;
}

const redisReply& element(const redisReply& reply, std::size_t i) {
  return *reply.element[i];
}

tl::expected<RedisConnection, std::string> RedisConnection::open(const RedisUrl& url,
                                                                 Timeouts timeouts) {
  redisContext* raw =
      redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(timeouts.connect));
  if (raw == nullptr) return tl::unexpected(std::string("out of memory"));
  RedisConnection conn(raw);
  if (raw->err != 0) return tl::unexpected(conn.error_text());
  if (redisSetTimeout(raw, to_timeval(timeouts.io)) != REDIS_OK) {
    return tl::unexpected(conn.error_text());
  }
  // Finds a peer that vanished without a word (no FIN, no RST) even when
  // the connection is idle.
  redisEnableKeepAlive(raw);

  auto expect_ok = [&](std::initializer_list<std::string_view> args,
                       const char* what) -> tl::expected<void, std::string> {
    auto reply = conn.command(args);
    if (!reply) return tl::unexpected(reply.error());
    if (kind_of(**reply) == RedisReplyKind::error) {
      return tl::unexpected(fmt::format("{}: {}", what, text_of(**reply)));
    }
    return {};
  };
  if (!url.password.empty()) {
    auto ok = url.username.empty() ? expect_ok({"AUTH", url.password}, "AUTH")
                                   : expect_ok({"AUTH", url.username, url.password}, "AUTH");
    if (!ok) return tl::unexpected(ok.error());
  }
  if (url.db != 0) {
    const std::string db = std::to_string(url.db);
    if (auto ok = expect_ok({"SELECT", db}, "SELECT"); !ok) return tl::unexpected(ok.error());
  }
  return conn;
}

int RedisConnection::fd() const {
  return context_->fd;
}

void RedisConnection::append(std::initializer_list<std::string_view> args) {
  append(std::span<const std::string_view>(args.begin(), args.size()));
}

void RedisConnection::append(std::span<const std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  // Fails only when out of memory, which the next flush reports.
  redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                         lengths.data());
}

tl::expected<void, std::string> RedisConnection::flush() {
  int done = 0;
  while (done == 0) {
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return tl::unexpected(error_text());
  }
  return {};
}

tl::expected<void, std::string> RedisConnection::read_available() {
  if (redisBufferRead(context_.get()) != REDIS_OK) return tl::unexpected(error_text());
  return {};
}

tl::expected<RedisReply, std::string> RedisConnection::next_reply() {
  void* reply = nullptr;
  if (redisGetReplyFromReader(context_.get(), &reply) != REDIS_OK) {
    return tl::unexpected(error_text());
  }
  return RedisReply(static_cast<redisReply*>(reply));
}

tl::expected<RedisReply, std::string> RedisConnection::command(
    std::initializer_list<std::string_view> args) {
  append(args);
  void* reply = nullptr;
  if (redisGetReply(context_.get(), &reply) != REDIS_OK) return tl::unexpected(error_text());
  return RedisReply(static_cast<redisReply*>(reply));
}

std::string RedisConnection::error_text() const {
  if (context_->err == 0) return "unknown error";
  return context_->errstr;
}

}  // namespace parley::cluster
