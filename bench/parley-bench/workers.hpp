// The event-loop threads: one io_context per thread, each run by its own
// thread, so a connection and everything it touches stay on one thread
// with no locks. The controlling thread posts work to them and reads
// their counters (RelaxedCounter) while they run.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace parley::bench {

// A counter with one writer (a worker thread) and any number of readers:
// a plain load and store, no locked read-modify-write on the hot path.
class RelaxedCounter {
 public:
  void add(std::uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Worker {
 public:
  Worker();
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& io() { return io_; }
  void start();
  // Stops the loop and joins the thread; pending handlers are not run.
  void stop();

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

class WorkerPool {
 public:
  explicit WorkerPool(unsigned threads);
  std::size_t size() const { return workers_.size(); }
  Worker& operator[](std::size_t i) { return *workers_[i]; }
  void start();
  void stop();
  // After stop(): runs, on the calling thread, what is left ready in each
  // loop (the cancelled operations of discarded connections), so that
  // nothing queued refers to a connection once it is destroyed.
  void drain();
  // Runs `fn(worker index)` on each worker's thread.
  void post_each(const std::function<void(std::size_t worker)>& fn);

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace parley::bench
