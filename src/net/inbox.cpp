#include "net/inbox.hpp"

#include <utility>

#include <boost/asio/post.hpp>

namespace parley::net {

Inbox::Inbox(boost::asio::execution_context& owner)
    : boost::asio::execution_context::service(owner),
      ctx_(static_cast<boost::asio::io_context&>(owner)) {}

Inbox& Inbox::of(boost::asio::io_context& ctx) {
  return boost::asio::use_service<Inbox>(ctx);
}

void Inbox::post(std::function<void()> fn) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(fn));
    wake = !scheduled_;
    scheduled_ = true;
  }
  if (wake) boost::asio::post(ctx_, [this] { drain(); });
}

void Inbox::drain() {
  {
    std::lock_guard lock(mutex_);
    running_.swap(queued_);
    scheduled_ = false;
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

void Inbox::shutdown() {
  // The context is going away: what is queued holds sessions and must not
  // outlive it.
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(queued_);
  }
  running_.clear();
}

}  // namespace parley::net
