// A fixed-size pool of named worker threads for blocking or CPU-heavy work
// (bcrypt, SQLite). Callers hand it a task and get their result back by
// posting to their own executor from inside the task; the pool never runs
// anything on an I/O thread. Tasks must not throw (a throw is caught and
// logged by the caller-supplied guard in post()).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::core {

class ThreadPool {
 public:
  using Task = std::function<void()>;
  ThreadPool(std::string name, std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Thread-safe. Tasks posted after stop() are dropped.
  void post(Task task);
  // Runs what is queued, then joins the threads. Idempotent.
  void stop();
  std::size_t size() const { return threads_.size(); }
  std::size_t queued() const;

 private:
  void run();

  std::string name_;
  mutable std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace parley::core
