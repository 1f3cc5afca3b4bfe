// GET /api/health and GET /metrics.
#include <fmt/format.h>

#include "api/api.hpp"
#include "obs/log.hpp"

namespace parley::api {

namespace {

long long steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr long long kHealthCacheMs = 1000;    // one store probe per second at most
constexpr long long kProbeDeadlineMs = 3000;  // a probe slower than this is a failure

}  // namespace

void Api::health(const http::Request&, http::Reply reply) {
  auto answer = [this](bool ok, http::Reply& rep) {
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - started_)
                            .count();
    // With several nodes, the broker's state too: a node whose broker is
    // down still serves its own sockets, so that alone is no 503.
    const std::string broker =
        options_.broker_connected
            ? fmt::format(R"(,"broker":"{}")", options_.broker_connected() ? "ok" : "down")
            : std::string();
    rep(http::Response::json(
        ok ? 200 : 503,
        fmt::format(R"({{"status":"{}","db":"{}","uptimeSeconds":{},"version":"{}"{}}})",
                    ok ? "ok" : "degraded", ok ? "ok" : "unreachable", uptime, options_.version,
                    broker)));
  };
  const long long now = steady_ms();
  const bool fresh = now - health_checked_ms_.load(std::memory_order_acquire) < kHealthCacheMs;
  if (fresh) return answer(health_ok_.load(std::memory_order_acquire), reply);

  bool expected = false;
  if (!health_probe_in_flight_.compare_exchange_strong(expected, true)) {
    // Another request is probing: answer from the last result, unless that
    // probe is hanging.
    const bool hung = now - health_probe_started_ms_.load() > kProbeDeadlineMs;
    return answer(!hung && health_ok_.load(std::memory_order_acquire), reply);
  }
  health_probe_started_ms_.store(now);
  messenger_.ping([this, answer, reply = std::move(reply)](core::Result<void> r) mutable {
    if (!r) obs::log(obs::Level::error, "health: store ping failed: {}", r.error().detail);
    health_ok_.store(r.has_value(), std::memory_order_release);
    health_checked_ms_.store(steady_ms(), std::memory_order_release);
    health_probe_in_flight_.store(false);
    answer(r.has_value(), reply);
  });
}

// The handler signature is shared by all routes; this one answers at once.
void Api::metrics(const http::Request&,
                  http::Reply reply) {  // NOLINT(performance-unnecessary-value-param)
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.render();
  reply(std::move(r));
}

}  // namespace parley::api
