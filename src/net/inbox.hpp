// parley::net inbox: functions handed to one I/O thread by other threads,
// run there in batches.
//
// DESIGN
// - Every cross-thread hand-off to a session (a message to deliver, an ack to
//   answer, a presence event) is one function. Posted to the io_context one
//   by one, each would be a queue operation and, for an idle loop, a wake-up
//   (an eventfd write and a futex). The inbox keeps them in one vector under
//   one mutex and posts a single drain to the loop when the vector goes from
//   empty to non-empty: a burst (the fan-out of one committed batch) costs
//   one wake-up per I/O thread, however many sockets it reaches.
// - Functions run in the order they were posted, all on the loop's thread.
//   What a drain's functions post lands in the next drain.
// - One inbox per io_context, as an Asio service (Inbox::of), so anything
//   bound to a context finds it without a registry.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace parley::net {

class Inbox final : public boost::asio::execution_context::service {
 public:
  using key_type = Inbox;
  static inline boost::asio::execution_context::id id;

  explicit Inbox(boost::asio::execution_context& owner);

  // The inbox of `ctx` (created on first use; lives as long as `ctx`).
  static Inbox& of(boost::asio::io_context& ctx);

  // Any thread. Runs `fn` on the context's thread, after what was posted
  // before it.
  void post(std::function<void()> fn);

 private:
  void shutdown() override;
  void drain();

  boost::asio::io_context& ctx_;
  std::mutex mutex_;  // guards queued_, scheduled_
  std::vector<std::function<void()>> queued_;
  bool scheduled_ = false;                      // a drain is posted and has not swapped yet
  std::vector<std::function<void()>> running_;  // the context's thread only
};

}  // namespace parley::net
