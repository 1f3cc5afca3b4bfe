#include "api/chat_sockets.hpp"

#include <algorithm>
#include <charconv>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "api/json.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/object_id.hpp"
#include "obs/log.hpp"

namespace parley::api {

struct ChatSockets::SocketState {
  // Holds one of the user's MAX_SOCKETS_PER_USER slots in the deployment
  // from authorization until the socket is gone, whichever way it goes.
  // (MAX_CONNECTIONS_PER_IP is enforced by Engine.IO from the handshake on.)
  struct Slot {
    cluster::PresenceRegistry* registry = nullptr;  // set while the slot is held
    std::string user;
    Slot() = default;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {
      if (registry) registry->disconnect(user, [](bool) {});
    }
  };
  Slot slot;
  bool came_online = false;  // this socket was the user's first in the deployment
  store::User user;
  auth::Claims claims;
  std::string token;  // re-checked every revalidate_every
  // Socket thread only.
  chat::DeviceFeed feed;
  bool reorder_timer = false;  // a timer will send what waits for a gap
  // Typing indicators to each peer ("u:<id>") or conversation ("c:<id>"),
  // kept in order: a peer's conversation id once known, and the
  // indicators waiting for a lookup.
  struct TypingTarget {
    std::optional<std::string> conversation_id;
    bool lookup_in_flight = false;
    std::vector<bool> waiting;
  };
  std::unordered_map<std::string, TypingTarget> typing;
};

namespace {

// How often a replay checks whether the socket has room for the next page.
constexpr auto kReplayPoll = std::chrono::milliseconds(5);

// Events for users' sockets, wherever they are: see ChatSockets::broadcast().
constexpr const char* kPresenceChannel = "presence";
constexpr const char* kTypingChannel = "typing";
// "<exp>:<jti>" of each revoked token.
constexpr const char* kRevocationsChannel = "revocations";
// A jti is a token's claim: bounded like any peer input before it is kept.
constexpr std::size_t kMaxJtiBytes = 128;

// Peers and conversations whose typing state a socket remembers (bounded
// per socket).
constexpr std::size_t kMaxTypingTargets = 256;

std::optional<std::string> member_string(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// ["<event>", <payload>] with the payload written by `body`.
template <typename Body>
std::string event_json(const char* event, Body body) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  w.String(event);
  body(w);
  w.EndArray();
  return take(buf);
}

std::string user_online_json(const std::string& uid) {
  return event_json("user:online", [&](JsonWriter& w) {
    w.StartObject();
    w.Key("userId");
    write_string(w, uid);
    w.EndObject();
  });
}

std::string users_online_json(const std::vector<std::string>& online) {
  return event_json("users:online", [&](JsonWriter& w) {
    w.StartObject();
    w.Key("userIds");
    w.StartArray();
    for (const auto& u : online) write_string(w, u);
    w.EndArray();
    w.EndObject();
  });
}

// The message:received event, encoded once per message for every socket.
chat::OutgoingPtr outgoing(store::Message m) {
  std::string event = "[\"message:received\",{\"message\":" + message_json(m) + "}]";
  return std::make_shared<const chat::Outgoing>(chat::Outgoing{std::move(m), std::move(event)});
}

std::string ack_error(const core::Error& e) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  w.StartObject();
  w.Key("ok");
  w.Bool(false);
  w.Key("error");
  write_string(w, core::error_code_name(e.code));
  w.Key("message");
  write_string(w, e.message);
  if (!e.fields.empty()) {
    w.Key("fields");
    w.StartObject();
    for (const auto& f : e.fields) {
      w.Key(f.field.data(), static_cast<rapidjson::SizeType>(f.field.size()));
      write_string(w, f.problem);
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndArray();
  return take(buf);
}

}  // namespace

ChatSockets::ChatSockets(ChatSocketOptions options, auth::Accounts& accounts,
                         chat::Messenger& messenger, chat::Delivery& delivery,
                         chat::Directory& directory, cluster::PresenceRegistry& presence,
                         core::RateLimiter& typing_limiter, cluster::Broker& broker)
    : options_(std::move(options)),
      accounts_(accounts),
      messenger_(messenger),
      delivery_(delivery),
      directory_(directory),
      presence_(presence),
      typing_limiter_(typing_limiter),
      broker_(broker) {
  // Changes no socket of this node caused: a node that died, this node's
  // sockets counted again after Redis was out of reach.
  presence_.on_changes([this](const cluster::PresenceRegistry::Changes& c) {
    for (const auto& uid : c.came_online) announce_online(uid);
    for (const auto& uid : c.went_offline) announce_offline(uid, std::string());
  });
  // See broadcast(); from this node or another.
  for (const char* channel : {kPresenceChannel, kTypingChannel}) {
    broker_.subscribe(channel, [this](const std::string& payload) { relay(payload); });
  }
  // From this node or another: refused from now on, its sockets closed.
  broker_.subscribe(kRevocationsChannel, [this](const std::string& payload) {
    const std::string_view p(payload);
    const auto colon = p.find(':');
    std::int64_t exp = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + std::min(colon, p.size()), exp);
    const std::string_view jti = colon == std::string_view::npos ? "" : p.substr(colon + 1);
    if (ec != std::errc{} || end != p.data() + colon || jti.empty() || jti.size() > kMaxJtiBytes) {
      return obs::log(obs::Level::error, "revocations: undecodable event");
    }
    accounts_.revoked_elsewhere(std::string(jti), exp);
    disconnect_token(std::string(jti));
  });
}

ChatSockets::~ChatSockets() = default;

void ChatSockets::revoked(const std::string& jti, std::int64_t exp) {
  broker_.publish(kRevocationsChannel, std::to_string(exp) + ":" + jti);
}

ChatSockets::SocketState* ChatSockets::state(const std::shared_ptr<socketio::Socket>& socket) {
  return static_cast<SocketState*>(socket->data.get());
}

std::string ChatSockets::token_of(const socketio::Socket& socket) const {
  rapidjson::Document auth;
  // auth_json() was re-serialised from a payload parsed within the depth limit.
  if (core::parse_json(auth, socket.auth_json(), core::kDefaultJsonMaxDepth) ==
      core::JsonParseError::none) {
    if (auto t = member_string(auth, "token"); t && !t->empty()) return *t;
  }
  return http::presented_token(socket.handshake().header("authorization"),
                               socket.handshake().header("cookie"), options_.cookie_name);
}

void ChatSockets::authorize(const std::shared_ptr<socketio::Socket>& socket,
                            std::function<void(std::string)> decide) {
  std::string token = token_of(*socket);
  if (token.empty()) return decide("unauthorized");
  accounts_.authenticate(token, [this, socket, token, decide = std::move(decide)](
                                    core::Result<auth::Principal> p) mutable {
    if (!p) return decide("unauthorized");
    const std::string uid = p->user.id;
    auto principal = std::make_shared<auth::Principal>(std::move(*p));
    // Counted at once, atomically across the deployment, so simultaneous
    // connects cannot all pass the check.
    presence_.connect(uid, options_.max_sockets_per_user,
                      [this, socket, token, principal,
                       decide = std::move(decide)](cluster::PresenceRegistry::Admission a) mutable {
                        if (!a.admitted) return decide("too many connections");
                        auto st = std::make_shared<SocketState>();
                        st->slot.registry = &presence_;
                        st->slot.user = principal->user.id;
                        st->came_online = a.came_online;
                        st->feed = chat::DeviceFeed(chat::DeviceFeed::kDefaultMaxHeld,
                                                    options_.reorder_wait);
                        st->user = std::move(principal->user);
                        st->claims = std::move(principal->claims);
                        st->token = token;
                        socket->post([socket, st, decide = std::move(decide)] {
                          socket->data = st;
                          decide({});
                        });
                      });
  });
}

void ChatSockets::on_connect(const std::shared_ptr<socketio::Socket>& socket) {
  SocketState* st = state(socket);
  const std::string uid = st->user.id;
  socket->join("user:" + uid);
  socket->join("token:" + st->claims.jti);
  const bool came_online = st->came_online;
  // The token's expiry ends the socket too.
  const auto left =
      std::chrono::seconds(st->claims.exp) -
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds(core::now_ms()));
  socket->after(
      std::chrono::duration_cast<std::chrono::milliseconds>(left) + std::chrono::milliseconds(1),
      [weak = std::weak_ptr<socketio::Socket>(socket)] {
        if (auto s = weak.lock()) s->disconnect();
      });
  revalidate_later(socket);
  if (!options_.presence_contacts_only) {
    if (came_online) broadcast_presence(user_online_json(uid), socket->id(), nullptr);
    // users:online is the socket's first event, then the presence changes
    // after it; a registry that answers at once does so on this thread.
    const auto here = std::this_thread::get_id();
    presence_.online_users([this, socket, here](std::vector<std::string> online) {
      auto first = [this, socket, online = std::move(online)] {
        if (!socket->connected()) return;
        socket->emit(users_online_json(online));
        socket->join("presence");
        replay(socket);
      };
      if (std::this_thread::get_id() == here) return first();
      socket->post(std::move(first));
    });
    return;
  }
  // PRESENCE_SCOPE=contacts: users:online stays the socket's first event,
  // so the replay waits for the contacts.
  directory_.contacts(
      uid, [this, socket, uid, came_online](core::Result<std::vector<std::string>> r) {
        if (!r) obs::log(obs::Level::warn, "contacts: {}", r.error().detail);
        auto contacts = std::make_shared<const std::vector<std::string>>(
            r ? std::move(*r) : std::vector<std::string>{});
        // The user first, then each contact.
        std::vector<std::string> asked{uid};
        asked.insert(asked.end(), contacts->begin(), contacts->end());
        presence_.online(
            std::move(asked), [this, socket, uid, came_online, contacts](std::vector<bool> flags) {
              socket->post([this, socket, uid, came_online, contacts, flags = std::move(flags)] {
                if (!socket->connected()) return;
                std::vector<std::string> online{uid};  // the user too, as in the contract
                for (std::size_t i = 0; i < contacts->size(); ++i) {
                  if (i + 1 < flags.size() && flags[i + 1]) online.push_back((*contacts)[i]);
                }
                socket->emit(users_online_json(online));
                // Not if the user left again meanwhile (their offline event may be out).
                if (came_online && !flags.empty() && flags[0]) {
                  broadcast_presence(user_online_json(uid), socket->id(), contacts.get());
                }
                replay(socket);
              });
            });
      });
}

void ChatSockets::replay(const std::shared_ptr<socketio::Socket>& socket) {
  SocketState* st = state(socket);
  delivery_.pending(st->user.id, st->feed.next_page_after(), options_.replay_page,
                    [this, socket](core::Result<std::vector<store::Message>> r) {
                      if (!r)
                        obs::log(obs::Level::error, "pending deliveries: {}", r.error().detail);
                      // Encoded here, on the store's thread, not on the socket's.
                      auto page = std::make_shared<std::vector<chat::OutgoingPtr>>();
                      if (r) {
                        page->reserve(r->size());
                        for (auto& m : *r) page->push_back(outgoing(std::move(m)));
                      }
                      socket->post([this, socket, page, failed = !r] {
                        SocketState* s = state(socket);
                        // The last page is merged with the live messages held meanwhile.
                        if (failed || page->size() < options_.replay_page) {
                          for (const auto& item : s->feed.last_page(std::move(*page)))
                            deliver(socket, item);
                          return;
                        }
                        // A full page: the next one is fetched once most of this one has
                        // been written to the peer, so a backlog never floods the socket's
                        // bounded queue (and a client that does not ack still gets all).
                        s->feed.page(*page);
                        for (const auto& item : *page) deliver(socket, item);
                        replay_when_drained(socket);
                      });
                    });
}

void ChatSockets::replay_when_drained(const std::shared_ptr<socketio::Socket>& socket) {
  socket->after(kReplayPoll, [this, weak = std::weak_ptr<socketio::Socket>(socket)] {
    auto s = weak.lock();
    if (!s || !s->connected()) return;
    if (s->backlog() <= options_.replay_page / 2) return replay(s);
    replay_when_drained(s);
  });
}

void ChatSockets::deliver(const std::shared_ptr<socketio::Socket>& socket,
                          const chat::OutgoingPtr& item) {
  const std::string& user = state(socket)->user.id;
  if (item->message.from == user) {
    // The sender's other devices: the contract asks every message:received
    // for an ack, but a sender's own ack is no delivery receipt.
    socket->emit_with_ack(item->encoded, options_.delivery_ack_timeout,
                          [](std::optional<rapidjson::Document>) {});
    return;
  }
  socket->emit_with_ack(item->encoded, options_.delivery_ack_timeout,
                        [this, item, user](std::optional<rapidjson::Document> ack) {
                          // Not acked: it stays pending and comes again.
                          if (ack) delivery_.acked(item->message, user);
                        });
}

void ChatSockets::send_feed(const std::shared_ptr<socketio::Socket>& socket,
                            const std::vector<chat::OutgoingPtr>& items) {
  for (const auto& item : items) deliver(socket, item);
  SocketState* st = state(socket);
  if (!st || st->reorder_timer) return;
  const auto due = st->feed.next_due();
  if (!due) return;
  st->reorder_timer = true;
  const auto wait =
      std::chrono::ceil<std::chrono::milliseconds>(*due - chat::DeviceFeed::Clock::now());
  socket->after(std::max(wait, std::chrono::milliseconds(1)),
                [this, weak = std::weak_ptr<socketio::Socket>(socket)] {
                  auto s = weak.lock();
                  SocketState* waiting = s ? state(s) : nullptr;
                  if (!waiting || !s->connected()) return;
                  waiting->reorder_timer = false;
                  // The gap did not fill live: the store has what is missing.
                  if (waiting->feed.resync_due(chat::DeviceFeed::Clock::now())) return replay(s);
                  send_feed(s, {});
                });
}

void ChatSockets::message(chat::Committed committed) {
  if (!sio_) return;
  // The recipient's (a group's members') sockets and the sender's other
  // devices: distinct users' rooms, one hand-off per I/O thread for all.
  std::vector<std::string> rooms;
  if (committed.members) {
    rooms.reserve(committed.members->size());
    for (const auto& member : *committed.members) rooms.push_back("user:" + member);
  } else {
    rooms = {"user:" + committed.message.to, "user:" + committed.message.from};
  }
  auto item = outgoing(std::move(committed.message));
  sio_->for_each_in_rooms(
      rooms,
      [this, item](const std::shared_ptr<socketio::Socket>& s) {
        if (SocketState* st = state(s)) {
          send_feed(s, st->feed.live(item, chat::DeviceFeed::Clock::now()));
        }
      },
      committed.origin);
}

void ChatSockets::delivered(const std::vector<chat::DeliveredReceipt>& receipts) {
  if (!sio_) return;
  // One hand-off per sender for all of their receipts in this flush.
  std::unordered_map<std::string_view, std::vector<std::string>> by_sender;
  for (const auto& receipt : receipts) {
    by_sender[receipt.sender_id].push_back(event_json("message:delivered", [&](JsonWriter& w) {
      w.StartObject();
      w.Key("messageId");
      write_string(w, receipt.message_id);
      w.Key("conversationId");
      write_string(w, receipt.conversation_id);
      w.Key("deliveredAt");
      write_string(w, core::to_iso8601(receipt.at));
      if (receipt.in_group) {
        w.Key("userId");
        write_string(w, receipt.user_id);
      }
      w.EndObject();
    }));
  }
  for (const auto& [sender, events] : by_sender) {
    sio_->emit_to_room("user:" + std::string(sender), events);
  }
}

void ChatSockets::read(const store::ReadOutcome& outcome, const std::string& reader_id) {
  if (!sio_) return;
  std::vector<std::string> rooms;
  rooms.reserve(outcome.others.size());
  for (const auto& other : outcome.others) rooms.push_back("user:" + other);
  sio_->emit_to_rooms(rooms, event_json("message:read", [&](JsonWriter& w) {
                        w.StartObject();
                        w.Key("conversationId");
                        write_string(w, outcome.conversation_id);
                        w.Key("readerId");
                        write_string(w, reader_id);
                        w.Key("upTo");
                        write_optional(w, outcome.up_to_id);
                        w.Key("readAt");
                        write_string(w, core::to_iso8601(outcome.read_at));
                        w.EndObject();
                      }));
}

void ChatSockets::conversation_updated(const store::GroupUpdate& update) {
  if (!sio_) return;
  // Each member sees the group with their own unread count; a removed
  // member sees it without themselves, once.
  for (const auto& [user, unread] : update.audience) {
    sio_->emit_to_room("user:" + user, "[\"conversation:updated\",{\"conversation\":" +
                                           conversation_json(update.conversation, unread) + "}]");
  }
}

void ChatSockets::relay(const std::string& payload) {
  if (!sio_) return;
  const std::string_view p(payload);
  const auto nl1 = p.find('\n');
  const auto nl2 = nl1 == std::string_view::npos ? nl1 : p.find('\n', nl1 + 1);
  if (nl2 == std::string_view::npos) return;
  const std::string_view except = p.substr(0, nl1);
  std::string_view audience = p.substr(nl1 + 1, nl2 - nl1 - 1);
  const std::string_view event = p.substr(nl2 + 1);
  // Encoded once for everyone it reaches, one hand-off per I/O thread.
  if (audience == "*") return sio_->emit_to_rooms({"presence"}, event, except);
  std::vector<std::string> rooms;
  while (!audience.empty()) {
    const auto comma = audience.find(',');
    rooms.push_back("user:" + std::string(audience.substr(0, comma)));
    audience = comma == std::string_view::npos ? std::string_view() : audience.substr(comma + 1);
  }
  sio_->emit_to_rooms(rooms, event, except);
}

void ChatSockets::broadcast_presence(const std::string& array_json,
                                     const std::string& except_socket,
                                     const std::vector<std::string>* audience) {
  broadcast(kPresenceChannel, array_json, except_socket, audience);
}

void ChatSockets::broadcast(const char* channel, const std::string& array_json,
                            const std::string& except_socket,
                            const std::vector<std::string>* audience) {
  // "<socket to skip>\n<audience>\n<event>": the audience is "*" (every
  // connected user) or the ids of the users to tell, comma-separated.
  std::string payload = except_socket + "\n";
  if (!audience) {
    payload += "*";
  } else {
    if (audience->empty()) return;
    for (const auto& id : *audience) {
      if (&id != &audience->front()) payload += ",";
      payload += id;
    }
  }
  payload += "\n";
  payload += array_json;
  broker_.publish(channel, std::move(payload));
}

void ChatSockets::on_disconnect(const std::shared_ptr<socketio::Socket>& socket, std::string_view) {
  SocketState* st = state(socket);
  if (!st || !st->slot.registry) return;
  st->slot.registry = nullptr;  // released here, not again when the state goes
  presence_.disconnect(st->user.id, [this, uid = st->user.id, sid = socket->id()](bool last) {
    if (last) announce_offline(uid, sid);
  });
}

void ChatSockets::announce_online(const std::string& uid) {
  if (!options_.presence_contacts_only) {
    return broadcast_presence(user_online_json(uid), std::string(), nullptr);
  }
  directory_.contacts(uid, [this, uid](core::Result<std::vector<std::string>> contacts) {
    if (!contacts) return obs::log(obs::Level::warn, "contacts: {}", contacts.error().detail);
    broadcast_presence(user_online_json(uid), std::string(), &*contacts);
  });
}

void ChatSockets::announce_offline(const std::string& uid, const std::string& except_socket) {
  const core::EpochMs now = core::now_ms();
  // Stored first, then told: an observer that reloads the user on
  // user:offline reads this lastSeen. If the user came back meanwhile, the
  // offline event is stale and not sent.
  delivery_.went_offline(uid, now, [this, uid, now, except_socket](core::Result<void> r) {
    if (!r) obs::log(obs::Level::warn, "last seen: {}", r.error().detail);
    presence_.online({uid}, [this, uid, now, except_socket](std::vector<bool> back) {
      if (back.empty() || back[0]) return;
      std::string event = event_json("user:offline", [&](JsonWriter& w) {
        w.StartObject();
        w.Key("userId");
        write_string(w, uid);
        w.Key("lastSeen");
        write_string(w, core::to_iso8601(now));
        w.EndObject();
      });
      if (!options_.presence_contacts_only) {
        return broadcast_presence(event, except_socket, nullptr);
      }
      directory_.contacts(uid, [this, uid, except_socket, event = std::move(event)](
                                   core::Result<std::vector<std::string>> contacts) {
        if (!contacts) {
          return obs::log(obs::Level::warn, "contacts: {}", contacts.error().detail);
        }
        broadcast_presence(event, except_socket, &*contacts);
      });
    });
  });
}

void ChatSockets::revalidate_later(const std::shared_ptr<socketio::Socket>& socket) {
  socket->after(options_.revalidate_every, [this, weak = std::weak_ptr<socketio::Socket>(socket)] {
    auto s = weak.lock();
    SocketState* st = s ? state(s) : nullptr;
    if (!st || !s->connected()) return;
    accounts_.authenticate(st->token, [this, weak](core::Result<auth::Principal> p) {
      auto checked = weak.lock();
      if (!checked) return;
      // A store that cannot answer is no reason to drop anyone; a token that
      // is no longer valid (user gone, revoked elsewhere) is.
      const bool keep = p.has_value() || p.error().code != core::ErrorCode::unauthorized;
      checked->post([this, checked, keep] {
        if (!checked->connected()) return;
        if (!keep) return checked->disconnect();
        revalidate_later(checked);
      });
    });
  });
}

void ChatSockets::disconnect_token(const std::string& jti) {
  if (!sio_) return;
  sio_->for_each_in_room("token:" + jti,
                         [](const std::shared_ptr<socketio::Socket>& s) { s->disconnect(); });
}

void ChatSockets::on_event(const std::shared_ptr<socketio::Socket>& socket, socketio::Event e) {
  SocketState* st = state(socket);
  if (!st) return;
  if (e.name == "message:send") return on_send(socket, e);
  if (e.name == "message:read") return on_read(socket, e);
  if (e.name == "typing") return on_typing(socket, e);
  if (e.name == "user:connect") {
    if (!e.ack_id) return;
    const rapidjson::Value* payload = e.args.Size() > 1 ? &e.args[1] : nullptr;
    const auto uid = payload ? member_string(*payload, "userId") : std::nullopt;
    socket->ack(*e.ack_id, uid && *uid == st->user.id ? R"([{"ok":true}])"
                                                      : R"([{"ok":false,"error":"forbidden"}])");
  }
}

void ChatSockets::on_send(const std::shared_ptr<socketio::Socket>& socket, socketio::Event& e) {
  SocketState* st = state(socket);
  chat::SendRequest req;
  req.from = st->user.id;
  req.origin = socket->id();
  core::Error type_errors;
  if (e.args.Size() > 1 && e.args[1].IsObject()) {
    req.to = string_member(e.args[1], "to", type_errors);
    req.conversation_id = string_member(e.args[1], "conversationId", type_errors);
    req.text = string_member(e.args[1], "text", type_errors);
    req.temp_id = string_member(e.args[1], "tempId", type_errors);
  }
  auto ack_id = e.ack_id;
  messenger_.send(
      std::move(req), std::move(type_errors), [this, socket, ack_id](core::Result<chat::Sent> r) {
        if (!ack_id && !r) return;
        // Encoded on the socket's thread: the store's thread only hands over.
        auto result = std::make_shared<core::Result<chat::Sent>>(std::move(r));
        socket->post([this, socket, ack_id, result] {
          const auto& sent = *result;
          // Not sent back to this device: it leaves no gap in its feed.
          if (SocketState* sender = state(socket); sender && sent) {
            send_feed(socket, sender->feed.own(sent->message.conversation_id, sent->message.seq));
          }
          if (!ack_id) return;
          socket->ack(*ack_id,
                      sent ? "[{\"ok\":true,\"message\":" + message_json(sent->message) + "}]"
                           : ack_error(sent.error()));
        });
      });
}

void ChatSockets::on_read(const std::shared_ptr<socketio::Socket>& socket, socketio::Event& e) {
  chat::ReadRequest req;
  req.caller_id = state(socket)->user.id;
  const rapidjson::Value* payload = e.args.Size() > 1 ? &e.args[1] : nullptr;
  auto ack_id = e.ack_id;
  if (payload && payload->IsObject()) {
    // Wrong types are refused as the HTTP route refuses them, never read as
    // absent (a non-string upTo must not mark everything read).
    // (A conversationId that is no string names no conversation: 404, as
    // an unknown id in the HTTP route's path.)
    core::Error type_errors;
    req.target_id = member_string(*payload, "conversationId").value_or("");
    req.up_to_id = string_member(*payload, "upTo", type_errors);
    if (!type_errors.fields.empty()) {
      if (ack_id) socket->ack(*ack_id, ack_error(type_errors));
      return;
    }
  }
  messenger_.mark_read(std::move(req), [socket, ack_id](core::Result<store::ReadOutcome> r) {
    if (!ack_id) return;
    std::string out;
    if (!r) {
      out = ack_error(r.error());
    } else {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartArray();
      w.StartObject();
      w.Key("ok");
      w.Bool(true);
      write_read_members(w, *r);
      w.EndObject();
      w.EndArray();
      out = take(buf);
    }
    socket->post([socket, ack_id, out = std::move(out)] { socket->ack(*ack_id, out); });
  });
}

void ChatSockets::on_typing(const std::shared_ptr<socketio::Socket>& socket, socketio::Event& e) {
  SocketState* st = state(socket);
  const rapidjson::Value* payload = e.args.Size() > 1 ? &e.args[1] : nullptr;
  if (!payload || !payload->IsObject()) return;
  const auto it = payload->FindMember("isTyping");
  const bool typing = it != payload->MemberEnd() && it->value.IsBool() && it->value.GetBool();
  const auto conversation_id = member_string(*payload, "conversationId");
  const auto to = conversation_id ? std::nullopt : member_string(*payload, "to");
  if (conversation_id && !core::is_object_id(*conversation_id)) return;
  if (!conversation_id && (!to || !core::is_object_id(*to) || *to == st->user.id)) return;
  if (!typing_limiter_.take(st->user.id).allowed) return;  // relayed, not stored: drop extras
  if (st->typing.size() > kMaxTypingTargets) st->typing.clear();
  if (conversation_id) return on_conversation_typing(socket, *conversation_id, typing);
  auto& peer = st->typing["u:" + *to];
  if (peer.conversation_id) return emit_typing(st->user.id, {*to}, peer.conversation_id, typing);
  peer.waiting.push_back(typing);
  if (peer.lookup_in_flight) return;  // sent in order when the lookup answers
  peer.lookup_in_flight = true;
  delivery_.conversation_between(
      st->user.id, *to, [this, socket, to = *to](core::Result<std::optional<std::string>> conv) {
        std::optional<std::string> id = conv ? std::move(*conv) : std::nullopt;
        socket->post([this, socket, to, id = std::move(id)] {
          SocketState* s = state(socket);
          auto& p = s->typing["u:" + to];
          p.lookup_in_flight = false;
          if (id) p.conversation_id = id;  // a conversation's id never changes
          for (bool t : p.waiting) emit_typing(s->user.id, {to}, id, t);
          p.waiting.clear();
        });
      });
}

void ChatSockets::on_conversation_typing(const std::shared_ptr<socketio::Socket>& socket,
                                         const std::string& conversation_id, bool typing) {
  SocketState* st = state(socket);
  auto& target = st->typing["c:" + conversation_id];
  target.waiting.push_back(typing);
  if (target.lookup_in_flight) return;  // sent in order when the lookup answers
  target.lookup_in_flight = true;
  // Looked up each time: members come and go, and a removed member must
  // hear nothing more.
  delivery_.members(
      st->user.id, conversation_id,
      [this, socket, conversation_id](core::Result<std::optional<std::vector<std::string>>> r) {
        auto members = std::make_shared<std::vector<std::string>>();
        const bool member = r && *r;
        if (member) *members = std::move(**r);
        socket->post([this, socket, conversation_id, members, member] {
          SocketState* s = state(socket);
          auto& t = s->typing["c:" + conversation_id];
          t.lookup_in_flight = false;
          std::vector<bool> waiting = std::move(t.waiting);
          t.waiting.clear();
          if (!member) return;  // not a conversation of theirs: nothing to relay
          std::erase(*members, s->user.id);
          for (bool is_typing : waiting) {
            emit_typing(s->user.id, *members, conversation_id, is_typing);
          }
        });
      });
}

void ChatSockets::emit_typing(const std::string& from, const std::vector<std::string>& to,
                              const std::optional<std::string>& conversation_id, bool typing) {
  if (!sio_ || to.empty()) return;
  // Through the broker: the members' sockets may be on other nodes.
  broadcast(kTypingChannel,
            event_json("typing",
                       [&](JsonWriter& w) {
                         w.StartObject();
                         w.Key("from");
                         write_string(w, from);
                         w.Key("conversationId");
                         write_optional(w, conversation_id);
                         w.Key("isTyping");
                         w.Bool(typing);
                         w.EndObject();
                       }),
            std::string(), &to);
}

}  // namespace parley::api
