#include "cluster/redis/redis_commands.hpp"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <span>

#include "cluster/redis/reconnect_backoff.hpp"
#include "cluster/redis/redis_connection.hpp"
#include "obs/log.hpp"

namespace parley::cluster {

namespace {

using Clock = std::chrono::steady_clock;

// How often an idle link checks that Redis is still there.
constexpr std::chrono::milliseconds kIdleCheck{100};

// Replies are read as they come; the batch's wait for the next one is
// bounded by the I/O timeout.
tl::expected<RedisReply, std::string> next_reply(RedisConnection& conn,
                                                 std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto reply = conn.next_reply();
    if (!reply) return reply;
    if (*reply) return reply;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return tl::unexpected(std::string("timed out waiting for a reply"));
    pollfd fd{conn.fd(), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return tl::unexpected(std::string("poll failed"));
    if (ready > 0) {
      if (auto read = conn.read_available(); !read) return tl::unexpected(read.error());
    }
  }
}

}  // namespace

RedisCommands::RedisCommands(RedisCommandsOptions options) : options_(std::move(options)) {}

RedisCommands::~RedisCommands() {
  stop();
}

RedisCommands::ScriptId RedisCommands::add_script(std::string lua) {
  scripts_.push_back(std::move(lua));
  return scripts_.size() - 1;
}

void RedisCommands::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "redis-state");
    run();
  });
}

void RedisCommands::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RedisCommands::connected() const {
  std::lock_guard lock(mutex_);
  return up_;
}

bool RedisCommands::send(std::vector<std::string> args, Handler handler) {
  {
    std::lock_guard lock(mutex_);
    if (!up_ || queue_.size() >= options_.max_queued) {
      stats_.not_sent.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(Command{std::move(args), std::move(handler)});
  }
  wake_.notify_one();
  return true;
}

std::vector<std::string> RedisCommands::evalsha(ScriptId script, std::vector<std::string> keys,
                                                std::vector<std::string> args) const {
  std::vector<std::string> all;
  all.reserve(3 + keys.size() + args.size());
  all.emplace_back("EVALSHA");
  all.push_back(shas_.at(script));
  all.push_back(std::to_string(keys.size()));
  for (auto& k : keys) all.push_back(std::move(k));
  for (auto& a : args) all.push_back(std::move(a));
  return all;
}

bool RedisCommands::eval(ScriptId script, std::vector<std::string> keys,
                         std::vector<std::string> args, Handler handler) {
  {
    std::lock_guard lock(mutex_);
    if (!up_ || queue_.size() >= options_.max_queued) {
      stats_.not_sent.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(
        Command{evalsha(script, std::move(keys), std::move(args)), std::move(handler)});
  }
  wake_.notify_one();
  return true;
}

void RedisCommands::eval_first(ScriptId script, std::vector<std::string> keys,
                               std::vector<std::string> args, Handler handler) {
  std::lock_guard lock(mutex_);
  queue_.push_back(Command{evalsha(script, std::move(keys), std::move(args)), std::move(handler)});
}

void RedisCommands::fail_all() {
  std::deque<Command> failed;
  {
    std::lock_guard lock(mutex_);
    up_ = false;
    failed.swap(queue_);
  }
  stats_.unanswered.fetch_add(failed.size(), std::memory_order_relaxed);
  for (auto& c : failed) c.handler(nullptr);
}

void RedisCommands::run() {
  ReconnectBackoff backoff(options_.backoff_floor, options_.backoff_ceiling);
  const std::string where = describe(options_.url);
  bool reported = false;  // one warning per outage, not one per attempt
  while (!stopping_.load()) {
    auto conn =
        RedisConnection::open(options_.url, {options_.connect_timeout, options_.io_timeout});
    std::string error;
    if (conn) {
      const auto opened = Clock::now();
      obs::log(obs::Level::info, "redis {}: state link connected", where);
      reported = false;
      error = serve(*conn);
      fail_all();
      if (stopping_.load()) break;
      if (Clock::now() - opened >= options_.backoff_ceiling) backoff.reset();
    } else {
      error = conn.error();
    }
    obs::log(reported ? obs::Level::debug : obs::Level::warn,
             "redis {}: state link down ({}); retrying", where, error);
    reported = true;
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, backoff.next(), [this] { return stopping_.load(); });
  }
}

std::string RedisCommands::serve(RedisConnection& conn) {
  std::vector<std::string> shas;
  for (const auto& lua : scripts_) {
    auto reply = conn.command({"SCRIPT", "LOAD", lua});
    if (!reply) return reply.error();
    if (kind_of(**reply) != RedisReplyKind::string) {
      return "SCRIPT LOAD: " + std::string(text_of(**reply));
    }
    shas.emplace_back(text_of(**reply));
  }
  {
    std::lock_guard lock(mutex_);
    shas_ = std::move(shas);
  }
  reset_requested_ = false;
  if (on_link_up_) on_link_up_();
  {
    std::lock_guard lock(mutex_);
    up_ = true;
  }
  auto next_tick = Clock::now();
  std::deque<Command> batch;
  while (!stopping_.load()) {
    if (reset_requested_.load()) return "reset to resynchronise";
    if (Clock::now() >= next_tick) {
      if (on_tick_) on_tick_();
      next_tick = Clock::now() + options_.tick;
    }
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, std::min(next_tick, Clock::now() + kIdleCheck),
                       [this] { return stopping_.load() || !queue_.empty(); });
      if (stopping_.load()) return "stopping";
      batch.swap(queue_);
    }
    if (batch.empty()) {
      // Nothing is asked of Redis now, so anything readable is the end of
      // the connection: found here, not by the next command.
      pollfd fd{conn.fd(), POLLIN, 0};
      if (::poll(&fd, 1, 0) > 0) return "connection closed by Redis";
      continue;
    }
    for (const auto& c : batch) {
      std::vector<std::string_view> views(c.args.begin(), c.args.end());
      conn.append(std::span<const std::string_view>(views));
    }
    if (auto sent = conn.flush(); !sent) {
      stats_.unanswered.fetch_add(batch.size(), std::memory_order_relaxed);
      for (auto& c : batch) c.handler(nullptr);
      return sent.error();
    }
    while (!batch.empty()) {
      auto reply = next_reply(conn, options_.io_timeout);
      if (!reply) {
        stats_.unanswered.fetch_add(batch.size(), std::memory_order_relaxed);
        for (auto& c : batch) c.handler(nullptr);
        return reply.error();
      }
      Command c = std::move(batch.front());
      batch.pop_front();
      if (kind_of(**reply) == RedisReplyKind::error) {
        // A refused command leaves its user's state unknown: the link is
        // dropped, so that the next one resynchronises it.
        std::string refused(text_of(**reply));
        stats_.unanswered.fetch_add(1 + batch.size(), std::memory_order_relaxed);
        c.handler(nullptr);
        for (auto& rest : batch) rest.handler(nullptr);
        return "refused: " + refused;
      }
      stats_.answered.fetch_add(1, std::memory_order_relaxed);
      c.handler(reply->get());
    }
  }
  return "stopping";
}

}  // namespace parley::cluster
