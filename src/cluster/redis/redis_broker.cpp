#include "cluster/redis/redis_broker.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "cluster/redis/reconnect_backoff.hpp"
#include "cluster/redis/redis_connection.hpp"
#include "cluster/redis/redis_envelope.hpp"
#include "obs/log.hpp"

namespace parley::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int to_poll_timeout(Clock::duration d) {
  const auto ms = std::chrono::ceil<milliseconds>(d).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60'000));
}

bool is_array_of(const redisReply& reply, std::string_view first, std::size_t min_size) {
  return kind_of(reply) == RedisReplyKind::array && size_of(reply) >= min_size &&
         text_of(element(reply, 0)) == first;
}

}  // namespace

// The two connections of one link to Redis and what the connection thread
// knows about them. Lives on the connection thread only.
struct RedisBroker::Link {
  Link(RedisConnection publisher, RedisConnection subscriber)
      : pub(std::move(publisher)), sub(std::move(subscriber)) {}

  RedisConnection pub;
  RedisConnection sub;
  std::size_t subscribed = 0;  // channels_ entries SUBSCRIBE was sent for
  std::size_t confirmed = 0;   // ... and Redis confirmed
  std::size_t in_flight = 0;   // PUBLISHes not yet answered
  Clock::time_point opened = Clock::now();
  Clock::time_point pub_progress = opened;  // last answer, or the first PUBLISH after none
  Clock::time_point sub_read = opened;      // last bytes read from the subscription
  std::optional<Clock::time_point> ping_sent;
};

RedisBroker::RedisBroker(RedisBrokerOptions options)
    : options_(std::move(options)), node_id_(random_node_id()) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  connection_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "broker-redis");
    run_connection();
  });
}

RedisBroker::~RedisBroker() {
  stop();
  ::close(wake_fd_);
}

void RedisBroker::publish(std::string channel, std::string payload) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  Outbound out{options_.prefix + channel, wrap_publication(node_id_, payload)};
  deliver_later(std::move(channel), std::move(payload));
  bool signal = false;
  {
    std::lock_guard lock(mutex_);
    if (out.message.size() > options_.max_queued_bytes) {
      stats_.queue_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queued_bytes_ += out.message.size();
    queue_.push_back(std::move(out));
    // Checked after adding, so the queue never holds more than its bounds.
    while (queue_.size() > options_.max_queued || queued_bytes_ > options_.max_queued_bytes) {
      queued_bytes_ -= queue_.front().message.size();
      queue_.pop_front();
      stats_.queue_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    signal = !wake_pending_;
    wake_pending_ = true;
  }
  if (signal) wake();
}

void RedisBroker::subscribe(std::string channel, Handler handler) {
  std::string prefixed = options_.prefix + channel;
  // Inserted on the delivery thread, which alone reads the handlers: ahead
  // of any payload of the channel, local (published later) or remote (the
  // SUBSCRIBE below is sent later still).
  delivery_.post([this, channel = std::move(channel), handler = std::move(handler)] {
    handlers_[channel].push_back(handler);
  });
  bool signal = false;
  {
    std::lock_guard lock(mutex_);
    if (std::find(channels_.begin(), channels_.end(), prefixed) != channels_.end()) return;
    channels_.push_back(std::move(prefixed));
    signal = !wake_pending_;
    wake_pending_ = true;
  }
  link_changed_.notify_all();  // connected() may have just turned false
  if (signal) wake();
}

void RedisBroker::stop() {
  std::lock_guard lock(stop_mutex_);
  stopping_.store(true);
  wake();
  if (connection_.joinable()) connection_.join();
  delivery_.stop();
}

bool RedisBroker::connected() const {
  std::lock_guard lock(mutex_);
  return link_up_ && confirmed_ == channels_.size();
}

bool RedisBroker::wait_connected(bool state, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return link_changed_.wait_for(
      lock, timeout, [&] { return (link_up_ && confirmed_ == channels_.size()) == state; });
}

void RedisBroker::deliver_later(std::string channel, std::string payload) {
  if (delivery_.queued() >= options_.max_pending_deliveries) {
    stats_.delivery_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  delivery_.post([this, channel = std::move(channel), payload = std::move(payload)] {
    auto it = handlers_.find(channel);
    if (it == handlers_.end()) return;
    for (const auto& h : it->second) h(payload);
  });
}

void RedisBroker::set_link(bool up, std::size_t confirmed) {
  {
    std::lock_guard lock(mutex_);
    link_up_ = up;
    confirmed_ = confirmed;
  }
  link_changed_.notify_all();
}

void RedisBroker::wake() const {
  const std::uint64_t one = 1;
  // Fails only when the counter would overflow: then it is readable anyway.
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

void RedisBroker::drain_wake() const {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto n = ::read(wake_fd_, &count, sizeof count);
}

// --- the connection thread ----------------------------------------------

void RedisBroker::run_connection() {
  ReconnectBackoff backoff(options_.backoff_floor, options_.backoff_ceiling);
  const std::string where = describe(options_.url);
  bool reported = false;  // one warning per outage, not one per attempt
  while (!stopping_.load()) {
    std::string error;
    std::optional<Link> link = open_link(error);
    if (!link) {
      stats_.connect_failures.fetch_add(1, std::memory_order_relaxed);
      obs::log(reported ? obs::Level::debug : obs::Level::warn,
               "redis {}: cannot connect ({}); retrying", where, error);
      reported = true;
      wait_backoff(backoff.next());
      continue;
    }
    stats_.connects.fetch_add(1, std::memory_order_relaxed);
    obs::log(obs::Level::info, "redis {}: connected", where);
    reported = false;
    error = serve(*link);
    set_link(false, 0);
    // Unanswered PUBLISHes may or may not have reached Redis: not resent.
    stats_.lost_in_flight.fetch_add(link->in_flight, std::memory_order_relaxed);
    if (stopping_.load()) break;
    obs::log(obs::Level::warn, "redis {}: connection lost ({}); reconnecting", where, error);
    reported = true;
    // A link that breaks as soon as it is made (a refused command, say)
    // keeps backing off; one that lasted starts again from the floor.
    if (Clock::now() - link->opened >= options_.backoff_ceiling) backoff.reset();
    wait_backoff(backoff.next());
  }
}

std::optional<RedisBroker::Link> RedisBroker::open_link(std::string& error) const {
  const RedisConnection::Timeouts timeouts{options_.connect_timeout, options_.io_timeout};
  auto pub = RedisConnection::open(options_.url, timeouts);
  if (!pub) {
    error = pub.error();
    return std::nullopt;
  }
  auto sub = RedisConnection::open(options_.url, timeouts);
  if (!sub) {
    error = sub.error();
    return std::nullopt;
  }
  return std::optional<Link>(std::in_place, std::move(*pub), std::move(*sub));
}

void RedisBroker::wait_backoff(std::chrono::milliseconds wait) const {
  const auto deadline = Clock::now() + wait;
  while (!stopping_.load()) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return;
    pollfd fd{wake_fd_, POLLIN, 0};
    // Publications wake it too; they wait in the queue for the link.
    if (::poll(&fd, 1, to_poll_timeout(left)) > 0) drain_wake();
  }
}

std::string RedisBroker::serve(Link& link) {
  set_link(true, 0);
  for (;;) {
    if (stopping_.load()) return {};
    std::string error;
    bool more = false;
    if (!send_work(link, more, error)) return error;
    std::array<pollfd, 3> fds{
        {{wake_fd_, POLLIN, 0}, {link.pub.fd(), POLLIN, 0}, {link.sub.fd(), POLLIN, 0}}};
    const auto idle = std::min(options_.ping_interval, options_.io_timeout);
    const int n = ::poll(fds.data(), fds.size(), more ? 0 : to_poll_timeout(idle));
    if (n < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    if (fds[0].revents != 0) drain_wake();
    if (fds[1].revents != 0 && !read_publish_replies(link, error)) return error;
    if (fds[2].revents != 0 && !read_subscription(link, error)) return error;
    if (error = check_health(link); !error.empty()) return error;
  }
}

// Sends SUBSCRIBE for channels added since the last turn and one batch of
// PUBLISHes; `more` tells whether the queue holds more.
bool RedisBroker::send_work(Link& link, bool& more, std::string& error) {
  std::vector<std::string> channels;
  std::deque<Outbound> batch;
  {
    std::lock_guard lock(mutex_);
    channels.assign(channels_.begin() + static_cast<std::ptrdiff_t>(link.subscribed),
                    channels_.end());
    const std::size_t n = std::min(queue_.size(), kRedisPublishBatch);
    for (std::size_t i = 0; i < n; ++i) {
      queued_bytes_ -= queue_.front().message.size();
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    more = !queue_.empty();
    // Cleared under the same lock that read the channels and the queue:
    // whatever is added after this writes the eventfd again.
    if (!more) wake_pending_ = false;
  }
  if (!channels.empty()) {
    for (const auto& c : channels) link.sub.append({"SUBSCRIBE", c});
    link.subscribed += channels.size();
    if (auto r = link.sub.flush(); !r) {
      error = "SUBSCRIBE: " + r.error();
      return false;
    }
  }
  if (batch.empty()) return true;
  if (link.in_flight == 0) link.pub_progress = Clock::now();
  for (const auto& out : batch) link.pub.append({"PUBLISH", out.channel, out.message});
  link.in_flight += batch.size();
  if (auto r = link.pub.flush(); !r) {
    error = "PUBLISH: " + r.error();
    return false;
  }
  return true;
}

bool RedisBroker::read_publish_replies(Link& link, std::string& error) {
  if (auto r = link.pub.read_available(); !r) {
    error = r.error();
    return false;
  }
  for (;;) {
    auto reply = link.pub.next_reply();
    if (!reply) {
      error = reply.error();
      return false;
    }
    if (!*reply) return true;
    if (kind_of(**reply) == RedisReplyKind::error) {
      // NOPERM, OOM...: Redis refuses this node's publications; reconnecting
      // (with backoff) shows it in the log until someone fixes Redis.
      error = "PUBLISH refused: " + std::string(text_of(**reply));
      return false;
    }
    if (link.in_flight > 0) --link.in_flight;
    link.pub_progress = Clock::now();
    stats_.published.fetch_add(1, std::memory_order_relaxed);
  }
}

bool RedisBroker::read_subscription(Link& link, std::string& error) {
  if (auto r = link.sub.read_available(); !r) {
    error = r.error();
    return false;
  }
  link.sub_read = Clock::now();
  for (;;) {
    auto next = link.sub.next_reply();
    if (!next) {
      error = next.error();
      return false;
    }
    if (!*next) return true;
    const redisReply& reply = **next;
    if (is_array_of(reply, "message", 3)) {
      on_message(text_of(element(reply, 1)), text_of(element(reply, 2)));
    } else if (is_array_of(reply, "subscribe", 1)) {
      set_link(true, ++link.confirmed);
    } else if (is_array_of(reply, "pong", 1) ||
               (kind_of(reply) == RedisReplyKind::status && text_of(reply) == "PONG")) {
      link.ping_sent.reset();
    } else if (kind_of(reply) == RedisReplyKind::error) {
      error = "subscription: " + std::string(text_of(reply));
      return false;
    }
  }
}

// Connection thread: a message read from the subscription.
void RedisBroker::on_message(std::string_view channel, std::string_view message) {
  if (channel.substr(0, options_.prefix.size()) != options_.prefix) return;
  const auto publication = unwrap_publication(message);
  if (!publication || publication->node_id == node_id_) return;  // ours: delivered already
  stats_.received.fetch_add(1, std::memory_order_relaxed);
  deliver_later(std::string(channel.substr(options_.prefix.size())),
                std::string(publication->payload));
}

// A link whose peer has gone silent (no FIN, no RST: a partition, a frozen
// host) is found here: PUBLISHes unanswered, or an idle subscription that
// does not answer a PING, for longer than the I/O timeout.
std::string RedisBroker::check_health(Link& link) const {
  const auto now = Clock::now();
  if (link.in_flight > 0 && now - link.pub_progress > options_.io_timeout) {
    return "no answer to PUBLISH in time";
  }
  if (link.ping_sent) {
    if (now - *link.ping_sent > options_.io_timeout) return "no answer to PING in time";
  } else if (now - link.sub_read >= options_.ping_interval) {
    link.sub.append({"PING"});
    if (auto r = link.sub.flush(); !r) return "PING: " + r.error();
    link.ping_sent = now;
  }
  return {};
}

}  // namespace parley::cluster
