// parley::net I/O threads. One io_context per thread, each run by exactly
// one thread, so everything posted to a context runs serialized on its
// thread: a connection bound to a context needs no strand and no locks for
// its own state. New connections are spread round-robin over the contexts.
// Only the event loop runs on these threads: blocking work goes to the
// store's threads or the CPU pool, results come back with post().
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace parley::net {

class IoPool {
 public:
  explicit IoPool(std::size_t threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Starts the threads; they run until stop().
  void start();
  // Stops every loop (pending handlers are dropped) and joins the threads.
  void stop();

  boost::asio::io_context& next();
  boost::asio::io_context& at(std::size_t i) { return *contexts_[i]; }
  std::size_t size() const { return contexts_.size(); }

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace parley::net
