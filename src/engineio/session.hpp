// parley::engineio session: what the layer above (Socket.IO) sees of one
// Engine.IO session, whatever its transport (polling, WebSocket, or the
// upgrade from one to the other, which it never notices).
//
// Threads: a session lives on one I/O thread. Methods marked "session
// thread" must be called there (from a SessionHandler callback or a
// function given to post()); post() itself is safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::engineio {

// The handshake request, for the application's authentication. Only the
// headers cookie, authorization, origin and user-agent are kept.
struct Handshake {
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string query;
  std::string client_ip;

  std::string_view header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return v;
    }
    return {};
  }
};

class Session {
 public:
  virtual ~Session() = default;

  virtual const std::string& id() const = 0;
  virtual const Handshake& handshake() const = 0;

  // Session thread. Queues a message packet. Returns false when the session
  // is closed or its outbound queue is over its bounds (the session is then
  // closed with reason "slow consumer").
  virtual bool send(std::string data, bool binary) = 0;
  // Session thread. Closes the session; the handler hears on_close once.
  virtual void close(std::string_view reason) = 0;
  virtual bool closed() const = 0;
  // Session thread. The layer above accepted the peer (Socket.IO: a
  // namespace connected, i.e. the peer authenticated): from now on the
  // session no longer counts against its IP's cap on unconnected sessions.
  virtual void mark_connected() = 0;
  // Session thread. Packets queued for the peer and not yet written to it
  // (polling: not yet fetched by a GET).
  virtual std::size_t backlog() const = 0;
  // Session thread. Runs `fn` after `delay` on the session thread (unless the
  // session is gone by then).
  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Any thread. Runs `fn` on the session thread (dropped if the session is
  // gone).
  virtual void post(std::function<void()> fn) = 0;
  // Any thread. Sessions that live on one I/O thread share this token.
  virtual const void* thread_token() const = 0;
  // Any thread. Runs `fn` on the session's I/O thread whether or not the
  // session still lives: one hand-off for work on many sessions of a thread.
  virtual void post_to_thread(std::function<void()> fn) = 0;
};

// The layer above, one per session. Called on the session thread.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  virtual void on_message(std::string data, bool binary) = 0;
  virtual void on_close(std::string_view reason) = 0;
};

using HandlerFactory = std::function<std::shared_ptr<SessionHandler>(std::shared_ptr<Session>)>;

}  // namespace parley::engineio
