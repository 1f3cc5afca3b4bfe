#include "parley-bench/workers.hpp"

#include <boost/asio/post.hpp>

namespace parley::bench {

// One thread runs each io_context: the hint lets Asio skip the scheduler
// work that only several threads need.
Worker::Worker() : io_(1) {}

Worker::~Worker() {
  stop();
}

void Worker::start() {
  guard_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::stop() {
  guard_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

WorkerPool::WorkerPool(unsigned threads) {
  for (unsigned i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
}

void WorkerPool::start() {
  for (auto& w : workers_) w->start();
}

void WorkerPool::stop() {
  for (auto& w : workers_) w->stop();
}

void WorkerPool::drain() {
  for (auto& w : workers_) {
    w->io().restart();
    w->io().poll();
  }
}

void WorkerPool::post_each(const std::function<void(std::size_t worker)>& fn) {
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    boost::asio::post(workers_[w]->io(), [fn, w] { fn(w); });
  }
}

}  // namespace parley::bench
