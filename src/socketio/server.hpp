// parley::socketio: Socket.IO v5 on top of Engine.IO sessions: namespaces,
// sockets, acknowledgements both ways, binary attachments and rooms.
//
// DESIGN
// - The application (chat, or the protocol test echo) decides which
//   namespaces exist, authorizes each connection (the middleware hook),
//   and handles events; this layer knows nothing of chat.
// - A Socket is one namespace connection of one Engine.IO session and lives
//   on that session's I/O thread: its methods are for that thread, except
//   post(), which runs a function there from anywhere.
// - Rooms map a name to sockets ("all sockets of user X" is a room). They
//   are sharded; emit_to_room() copies the members under the shard lock and,
//   after releasing it, hands the (once-encoded) packet to each I/O thread
//   once, with the list of that thread's sockets: a broadcast to N sockets
//   costs one hand-off per I/O thread, not one per socket.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>

#include "engineio/session.hpp"
#include "socketio/ack_deadlines.hpp"

namespace parley::socketio {

struct Options {
  std::size_t max_attachments = 10;
  std::size_t max_json_depth = 64;  // nesting of any packet's JSON payload
  // Bytes of binary attachments buffered for one packet until its last
  // attachment arrives (SOCKET_MAX_ATTACHMENT_BYTES).
  std::size_t max_attachment_bytes = 1 << 20;
  // A session that connects no namespace within this is closed.
  std::chrono::milliseconds connect_timeout{45000};
};

class Server;

class Socket : public std::enable_shared_from_this<Socket> {
 public:
  using AckCallback = std::function<void(std::optional<rapidjson::Document> args)>;

  Socket(Server& server, std::shared_ptr<engineio::Session> session, std::string nsp,
         std::string id);

  const std::string& id() const { return id_; }
  const std::string& nsp() const { return nsp_; }
  const engineio::Handshake& handshake() const { return session_->handshake(); }
  // The CONNECT payload ("{}" when none).
  const std::string& auth_json() const { return auth_json_; }
  bool connected() const { return connected_; }
  // Session thread: packets waiting to be written to this socket's peer.
  std::size_t backlog() const { return session_->backlog(); }
  // Session thread: the session is not closed.
  bool open() const { return !session_->closed(); }

  // Application state, set by the application (session thread).
  std::shared_ptr<void> data;

  // --- session thread
  // `array_json` is the event array: ["name", arg1, ...].
  void emit(std::string_view array_json, const std::vector<std::string>& attachments = {});
  // Same, expecting an ack; `done` gets nullopt after `timeout`.
  void emit_with_ack(std::string_view array_json, std::chrono::milliseconds timeout,
                     AckCallback done);
  // Answers a client's event ack; `array_json` is the argument array.
  void ack(std::uint32_t id, std::string_view array_json,
           const std::vector<std::string>& attachments = {});
  // An already-encoded Socket.IO packet text (shared fan-out).
  void send_packet(const std::string& packet);
  // Server-side disconnect: DISCONNECT packet, then the application hears
  // on_disconnect("server namespace disconnect").
  void disconnect();
  void join(const std::string& room);
  void leave(const std::string& room);

  // Runs `fn` on this socket's thread after `delay`, if the session lives.
  void after(std::chrono::milliseconds delay, std::function<void()> fn);

  // --- any thread
  void post(std::function<void()> fn);

 private:
  friend class Connection;
  friend class Server;  // groups sockets by their session's I/O thread
  Server& server_;
  std::shared_ptr<engineio::Session> session_;
  const std::string nsp_;
  const std::string id_;
  std::string auth_json_ = "{}";
  bool connected_ = false;
  // Expires due acks and arms the one timer for the next deadline.
  void sweep_acks();
  void arm_ack_timer(std::chrono::steady_clock::duration delay);

  std::uint32_t next_ack_id_ = 0;
  std::unordered_map<std::uint32_t, AckCallback> acks_;
  AckDeadlines ack_deadlines_;  // one timer per socket, not one per emit
  std::vector<std::string> rooms_;
};

struct Event {
  std::string name;
  rapidjson::Document args;  // the whole array, name first
  std::vector<std::string> attachments;
  std::optional<std::uint32_t> ack_id;
};

class Application {
 public:
  virtual ~Application() = default;
  virtual bool has_namespace(std::string_view nsp) const = 0;
  // The connection middleware. Call `decide` exactly once, from any thread:
  // an empty string accepts; anything else is the CONNECT_ERROR message.
  virtual void authorize(const std::shared_ptr<Socket>& socket,
                         std::function<void(std::string error)> decide) = 0;
  virtual void on_connect(const std::shared_ptr<Socket>& socket) = 0;
  virtual void on_event(const std::shared_ptr<Socket>& socket, Event event) = 0;
  virtual void on_disconnect(const std::shared_ptr<Socket>& socket, std::string_view reason) = 0;
};

class Server {
 public:
  Server(Options options, Application& app);

  // For engineio::Server: one handler per Engine.IO session.
  engineio::HandlerFactory handler_factory();

  // Any thread. Sends ["event", ...] to every socket in `room`.
  void emit_to_room(const std::string& room, std::string_view array_json);
  // Any thread. Several events, in order, to every socket in `room`: one
  // look-up of the room and one hand-off per I/O thread for them all.
  void emit_to_room(const std::string& room, const std::vector<std::string>& array_jsons);
  // Any thread. The same to the sockets of every room in `rooms` (rooms
  // with no socket in common), encoded once, except the socket `except_id`.
  void emit_to_rooms(const std::vector<std::string>& rooms, std::string_view array_json,
                     std::string_view except_id = {});
  // Any thread. Runs `fn` on the thread of each socket in `room`, except the
  // socket whose id is `except_id`.
  void for_each_in_room(const std::string& room,
                        const std::function<void(const std::shared_ptr<Socket>&)>& fn,
                        std::string_view except_id = {});
  // Any thread. The same for the sockets of every room in `rooms` (rooms
  // with no socket in common): one hand-off per I/O thread for them all.
  void for_each_in_rooms(const std::vector<std::string>& rooms,
                         const std::function<void(const std::shared_ptr<Socket>&)>& fn,
                         std::string_view except_id = {});
  std::size_t room_size(const std::string& room);

  const Options& options() const { return options_; }
  Application& app() { return app_; }

  // Rooms (socket thread of the socket).
  void join(const std::shared_ptr<Socket>& socket, const std::string& room);
  void leave(Socket* socket, const std::string& room);

 private:
  struct Shard {
    std::mutex mutex;  // guards rooms
    std::unordered_map<std::string, std::vector<std::weak_ptr<Socket>>> rooms;
  };
  Shard& shard(const std::string& room);
  std::vector<std::shared_ptr<Socket>> members(const std::string& room);
  // Sends the event, encoded once, to `targets`.
  void emit_to(std::vector<std::shared_ptr<Socket>> targets, std::string_view array_json);
  // Runs `fn` on each of `sockets` that is still open, with one hand-off per
  // I/O thread.
  // The sockets of `rooms`, but the socket `except_id`.
  std::vector<std::shared_ptr<Socket>> members_of(const std::vector<std::string>& rooms,
                                                  std::string_view except_id);
  static void run_per_thread(std::vector<std::shared_ptr<Socket>> sockets,
                             const std::function<void(const std::shared_ptr<Socket>&)>& fn);

  Options options_;
  Application& app_;
  std::array<Shard, 16> shards_;
};

}  // namespace parley::socketio
