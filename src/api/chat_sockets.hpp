// parley::api chat sockets: the contract's Socket.IO events on top of the
// socketio layer, calling the same domain functions as the HTTP routes.
//
// DESIGN
// - Identity: a socket is the user of the token it authenticated with (the
//   CONNECT payload's `token`, a Bearer header, or the auth cookie of the
//   handshake). Nothing in a payload changes it; `from` is always the
//   socket's user.
// - Rooms: "user:<id>" (all devices of a user), "token:<jti>" (sockets of one
//   token, for logout), "presence" (every authenticated socket).
// - Delivery is chat::Delivery's: this class is its sink on this node. A
//   committed message arrives once per node (from the broker's thread), is
//   encoded once into the message:received event, and that one string is
//   shared by every socket of its recipient and of its sender's other
//   devices; each socket only adds its ack id. Acks go back to
//   chat::Delivery, which coalesces them into cursor advances.
// - On connect, the pending messages are replayed oldest first, a page at a
//   time (the next page once most of the previous one is written), so a
//   backlog never overflows the socket's bounded queue; chat::DeviceFeed
//   holds live messages behind the replay and keeps each conversation in
//   seq order on each device.
// - Presence: cluster::PresenceRegistry counts each user's sockets (in the
//   whole deployment with REDIS_URL) and enforces MAX_SOCKETS_PER_USER; a
//   socket takes its slot when authorized and gives it back when it goes.
//   An online/offline change it reports becomes one publish on the
//   cluster::Broker's "presence" channel. The broker's thread (never an I/O
//   thread) does the broadcast, posting the once-encoded event to each
//   socket's own thread (socketio::Server::for_each_in_room). So the cost
//   per connected user is never paid on the causing I/O thread, and with a
//   multi-node broker the same events arrive from the other nodes. With
//   PRESENCE_SCOPE=contacts the event names its audience (the users who
//   share a conversation with the user, read from the store at the change)
//   and reaches only their sockets.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "auth/accounts.hpp"
#include "chat/delivery.hpp"
#include "chat/device_feed.hpp"
#include "chat/directory.hpp"
#include "chat/messenger.hpp"
#include "cluster/broker.hpp"
#include "cluster/presence_registry.hpp"
#include "core/rate_limiter.hpp"
#include "socketio/server.hpp"

namespace parley::api {

struct ChatSocketOptions {
  std::string cookie_name = "token";
  std::size_t max_sockets_per_user = 10;
  std::chrono::milliseconds delivery_ack_timeout{30000};
  // How often a connected socket's token is checked again (AUTH_CACHE_MS,
  // at least a second): a user deleted or a token revoked elsewhere ends
  // the socket within this.
  std::chrono::milliseconds revalidate_every{10000};
  // Pending messages are replayed this many at a time; the next page goes
  // out once this one is acked (or its acks time out).
  std::size_t replay_page = 100;
  // PRESENCE_SCOPE=contacts: presence reaches only users who share a
  // conversation, and users:online lists only them.
  bool presence_contacts_only = false;
  // DELIVERY_REORDER_MS: how long a live message with a gap below it waits
  // for the missing ones (several nodes writing one conversation).
  std::chrono::milliseconds reorder_wait = chat::DeviceFeed::kDefaultReorderWait;
};

class ChatSockets final : public socketio::Application, public chat::DeliverySink {
 public:
  ChatSockets(ChatSocketOptions options, auth::Accounts& accounts, chat::Messenger& messenger,
              chat::Delivery& delivery, chat::Directory& directory,
              cluster::PresenceRegistry& presence, core::RateLimiter& typing_limiter,
              cluster::Broker& broker);
  ~ChatSockets() override;

  // Start-up: the socket server this application runs in.
  void attach(socketio::Server& server) { sio_ = &server; }
  // Any thread: token `jti` (expiring at `exp`, seconds since the epoch)
  // was revoked here. Every node refuses it from now on and disconnects its
  // sockets (through the broker, this node included).
  void revoked(const std::string& jti, std::int64_t exp);
  // Any thread: disconnects this node's sockets authenticated with `jti`.
  void disconnect_token(const std::string& jti);

  // socketio::Application
  bool has_namespace(std::string_view nsp) const override { return nsp == "/"; }
  void authorize(const std::shared_ptr<socketio::Socket>& socket,
                 std::function<void(std::string error)> decide) override;
  void on_connect(const std::shared_ptr<socketio::Socket>& socket) override;
  void on_event(const std::shared_ptr<socketio::Socket>& socket, socketio::Event event) override;
  void on_disconnect(const std::shared_ptr<socketio::Socket>& socket,
                     std::string_view reason) override;

  // chat::DeliverySink (the broker's thread)
  void message(chat::Committed committed) override;
  void delivered(const std::vector<chat::DeliveredReceipt>& receipts) override;
  void read(const store::ReadOutcome& outcome, const std::string& reader_id) override;
  void conversation_updated(const store::GroupUpdate& update) override;

 private:
  struct SocketState;
  static SocketState* state(const std::shared_ptr<socketio::Socket>& socket);
  std::string token_of(const socketio::Socket& socket) const;
  // Socket thread: sends one message:received, asking for the ack.
  void deliver(const std::shared_ptr<socketio::Socket>& socket, const chat::OutgoingPtr& item);
  // Socket thread: delivers what the device's feed answered, and arms the
  // timer that, once a wait for a gap is over, replays what is pending.
  void send_feed(const std::shared_ptr<socketio::Socket>& socket,
                 const std::vector<chat::OutgoingPtr>& items);
  void replay_when_drained(const std::shared_ptr<socketio::Socket>& socket);
  void replay(const std::shared_ptr<socketio::Socket>& socket);
  // Socket thread: checks the socket's token again after revalidate_every,
  // and so on while it stays valid.
  void revalidate_later(const std::shared_ptr<socketio::Socket>& socket);
  // An event published on `channel` for every node's sockets: those of
  // every connected user (`audience` null) or of the users listed, except
  // one socket. Payload "<socket to skip>\n<audience>\n<event>", the
  // audience "*" or the user ids comma-separated.
  void broadcast(const char* channel, const std::string& array_json,
                 const std::string& except_socket, const std::vector<std::string>* audience);
  // Such a payload from the broker, from this node or another: emitted to
  // this node's sockets.
  void relay(const std::string& payload);
  void broadcast_presence(const std::string& array_json, const std::string& except_socket,
                          const std::vector<std::string>* audience);
  // user:online (to everyone, or the user's contacts).
  void announce_online(const std::string& uid);
  // Stores the user's lastSeen, then tells of user:offline unless they are
  // back meanwhile.
  void announce_offline(const std::string& uid, const std::string& except_socket);
  void on_send(const std::shared_ptr<socketio::Socket>& socket, socketio::Event& e);
  void on_read(const std::shared_ptr<socketio::Socket>& socket, socketio::Event& e);
  void on_typing(const std::shared_ptr<socketio::Socket>& socket, socketio::Event& e);
  // Typing by conversation id (direct or group): relayed to its other
  // members, looked up for each burst of indicators.
  void on_conversation_typing(const std::shared_ptr<socketio::Socket>& socket,
                              const std::string& conversation_id, bool typing);
  void emit_typing(const std::string& from, const std::vector<std::string>& to,
                   const std::optional<std::string>& conversation_id, bool typing);

  ChatSocketOptions options_;
  auth::Accounts& accounts_;
  chat::Messenger& messenger_;
  chat::Delivery& delivery_;
  chat::Directory& directory_;
  cluster::PresenceRegistry& presence_;
  core::RateLimiter& typing_limiter_;
  socketio::Server* sio_ = nullptr;
  cluster::Broker& broker_;
};

}  // namespace parley::api
