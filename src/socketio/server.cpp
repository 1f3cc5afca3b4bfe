#include "socketio/server.hpp"

#include <algorithm>
#include <functional>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/object_id.hpp"
#include "socketio/codec.hpp"

namespace parley::socketio {

namespace {

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string error_json(std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

// The Socket.IO side of one Engine.IO session: its namespace sockets, the
// binary packet being reassembled, the connect deadline. Session thread.
class Connection final : public engineio::SessionHandler,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, std::shared_ptr<engineio::Session> session)
      : server_(server), session_(std::move(session)) {}

  // A session must connect a namespace (pass authorization) within the
  // connect timeout; a CONNECT that was refused does not count.
  void start() {
    session_->after(server_.options().connect_timeout, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (self && !self->ever_connected_) self->session_->close("connect timeout");
    });
  }

  void on_message(std::string data, bool binary) override {
    if (binary) {
      if (!pending_) return fail();  // binary with no packet waiting for it
      pending_bytes_ += data.size();
      if (pending_bytes_ > server_.options().max_attachment_bytes) return fail();
      pending_attachments_.push_back(std::move(data));
      if (pending_attachments_.size() == pending_->attachments) {
        Packet p = std::move(*pending_);
        pending_.reset();
        dispatch(std::move(p), std::move(pending_attachments_));
        pending_attachments_.clear();
      }
      return;
    }
    if (pending_) return fail();  // text while attachments are still due
    auto p = decode(data, {server_.options().max_attachments, server_.options().max_json_depth});
    if (!p) return fail();
    if ((p->type == PacketType::binary_event || p->type == PacketType::binary_ack) &&
        p->attachments > 0) {
      // Attachments are buffered until the last arrives: only for a
      // namespace that is connected (authenticated), and bounded in bytes.
      if (!sockets_.count(p->nsp)) return fail();
      pending_ = std::move(*p);
      pending_bytes_ = 0;
      return;
    }
    dispatch(std::move(*p), {});
  }

  void on_close(std::string_view reason) override {
    auto sockets = std::move(sockets_);
    sockets_.clear();
    for (auto& [nsp, socket] : sockets) drop(socket, reason);
  }

 private:
  void fail() { session_->close("parse error"); }

  void drop(const std::shared_ptr<Socket>& socket, std::string_view reason) {
    if (!socket->connected_) return;
    socket->connected_ = false;
    for (const auto& room : std::vector<std::string>(socket->rooms_)) {
      server_.leave(socket.get(), room);
    }
    auto acks = std::move(socket->acks_);
    socket->acks_.clear();
    socket->ack_deadlines_.clear();
    server_.app().on_disconnect(socket, reason);
  }

  void dispatch(Packet p, std::vector<std::string> attachments) {
    switch (p.type) {
      case PacketType::connect: return on_connect(std::move(p));
      case PacketType::disconnect: {
        auto it = sockets_.find(p.nsp);
        if (it == sockets_.end()) return;
        auto socket = it->second;
        sockets_.erase(it);
        drop(socket, "client namespace disconnect");
        return;
      }
      case PacketType::event:
      case PacketType::binary_event: {
        auto it = sockets_.find(p.nsp);
        if (it == sockets_.end()) return fail();  // an event before CONNECT
        if (p.attachments != attachments.size()) return fail();
        if (!placeholders_valid(p.data, p.attachments)) {
          return fail();  // a placeholder naming an attachment that was not sent
        }
        Event e;
        e.name = p.data[0].IsString()
                     ? std::string(p.data[0].GetString(), p.data[0].GetStringLength())
                     : to_json(p.data[0]);
        e.args = std::move(p.data);
        e.attachments = std::move(attachments);
        e.ack_id = p.id;
        server_.app().on_event(it->second, std::move(e));
        return;
      }
      case PacketType::ack:
      case PacketType::binary_ack: {
        auto it = sockets_.find(p.nsp);
        if (it == sockets_.end()) return fail();
        if (p.attachments != attachments.size() || !placeholders_valid(p.data, p.attachments)) {
          return fail();
        }
        auto& acks = it->second->acks_;
        auto ack = acks.find(*p.id);
        if (ack == acks.end()) return;  // late (timed out) or unknown: ignored
        auto cb = std::move(ack->second);
        acks.erase(ack);
        cb(std::move(p.data));
        return;
      }
      case PacketType::connect_error: return fail();
    }
  }

  void on_connect(Packet p) {
    if (!server_.app().has_namespace(p.nsp)) {
      session_->send(
          encode(PacketType::connect_error, p.nsp, std::nullopt, error_json("Invalid namespace")),
          false);
      return;
    }
    if (sockets_.count(p.nsp)) return;  // already connected there
    auto socket = std::make_shared<Socket>(server_, session_, p.nsp, core::new_object_id());
    if (p.has_data) socket->auth_json_ = to_json(p.data);
    server_.app().authorize(socket, [self = shared_from_this(), socket](std::string error) {
      self->session_->post(
          [self, socket, error = std::move(error)] { self->finish_connect(socket, error); });
    });
  }

  void finish_connect(const std::shared_ptr<Socket>& socket, const std::string& error) {
    if (!error.empty()) {
      session_->send(
          encode(PacketType::connect_error, socket->nsp(), std::nullopt, error_json(error)), false);
      return;
    }
    if (sockets_.count(socket->nsp())) return;
    sockets_[socket->nsp()] = socket;
    socket->connected_ = true;
    if (!ever_connected_) {
      ever_connected_ = true;
      session_->mark_connected();
    }
    session_->send(encode(PacketType::connect, socket->nsp(), std::nullopt,
                          fmt::format(R"({{"sid":"{}"}})", socket->id())),
                   false);
    server_.app().on_connect(socket);
  }

  Server& server_;
  std::shared_ptr<engineio::Session> session_;
  std::unordered_map<std::string, std::shared_ptr<Socket>> sockets_;
  std::optional<Packet> pending_;  // a binary packet awaiting attachments
  std::vector<std::string> pending_attachments_;
  std::size_t pending_bytes_ = 0;  // in pending_attachments_
  bool ever_connected_ = false;    // a namespace was connected (authorized)
};

// --- Socket -----------------------------------------------------------------

Socket::Socket(Server& server, std::shared_ptr<engineio::Session> session, std::string nsp,
               std::string id)
    : server_(server), session_(std::move(session)), nsp_(std::move(nsp)), id_(std::move(id)) {}

void Socket::emit(std::string_view array_json, const std::vector<std::string>& attachments) {
  if (!connected_) return;
  if (attachments.empty()) {
    session_->send(encode(PacketType::event, nsp_, std::nullopt, array_json), false);
    return;
  }
  session_->send(
      encode(PacketType::binary_event, nsp_, std::nullopt, array_json, attachments.size()), false);
  for (const auto& a : attachments) session_->send(a, true);
}

void Socket::emit_with_ack(std::string_view array_json, std::chrono::milliseconds timeout,
                           AckCallback done) {
  if (!connected_) return done(std::nullopt);
  const std::uint32_t id = next_ack_id_++;
  acks_.emplace(id, std::move(done));
  session_->send(encode(PacketType::event, nsp_, id, array_json), false);
  ack_deadlines_.prune([this](std::uint32_t pending) { return acks_.count(pending) > 0; });
  if (ack_deadlines_.add(id, std::chrono::steady_clock::now() + timeout)) arm_ack_timer(timeout);
}

void Socket::arm_ack_timer(std::chrono::steady_clock::duration delay) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(
      std::max(delay, std::chrono::steady_clock::duration::zero()));
  session_->after(ms, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->sweep_acks();
  });
}

void Socket::sweep_acks() {
  const auto now = std::chrono::steady_clock::now();
  for (const std::uint32_t id : ack_deadlines_.expire(now)) {
    auto it = acks_.find(id);
    if (it == acks_.end()) continue;  // answered in time
    auto cb = std::move(it->second);
    acks_.erase(it);
    cb(std::nullopt);
  }
  if (ack_deadlines_.armed()) return;  // a callback's emit armed it already
  if (const auto next = ack_deadlines_.next()) {
    ack_deadlines_.rearm(*next);
    arm_ack_timer(*next - now);
  }
}

void Socket::ack(std::uint32_t id, std::string_view array_json,
                 const std::vector<std::string>& attachments) {
  if (!connected_) return;
  if (attachments.empty()) {
    session_->send(encode(PacketType::ack, nsp_, id, array_json), false);
    return;
  }
  session_->send(encode(PacketType::binary_ack, nsp_, id, array_json, attachments.size()), false);
  for (const auto& a : attachments) session_->send(a, true);
}

void Socket::send_packet(const std::string& packet) {
  if (connected_) session_->send(packet, false);
}

void Socket::disconnect() {
  if (!connected_) return;
  session_->send(encode(PacketType::disconnect, nsp_, std::nullopt, {}), false);
  // The Connection drops it when the session closes; close now so the client
  // sees "io server disconnect" and the server forgets the socket.
  session_->close("server namespace disconnect");
}

void Socket::join(const std::string& room) {
  if (std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end()) return;
  rooms_.push_back(room);
  server_.join(shared_from_this(), room);
}

void Socket::leave(const std::string& room) {
  auto it = std::find(rooms_.begin(), rooms_.end(), room);
  if (it == rooms_.end()) return;
  rooms_.erase(it);
  server_.leave(this, room);
}

void Socket::post(std::function<void()> fn) {
  session_->post(std::move(fn));
}

void Socket::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  session_->after(delay, std::move(fn));
}

// --- Server -----------------------------------------------------------------

Server::Server(Options options, Application& app) : options_(options), app_(app) {}

engineio::HandlerFactory Server::handler_factory() {
  return [this](std::shared_ptr<engineio::Session> session) {
    auto c = std::make_shared<Connection>(*this, std::move(session));
    c->start();
    return c;
  };
}

Server::Shard& Server::shard(const std::string& room) {
  return shards_[std::hash<std::string>{}(room) % shards_.size()];
}

void Server::join(const std::shared_ptr<Socket>& socket, const std::string& room) {
  Shard& s = shard(room);
  std::lock_guard lock(s.mutex);
  s.rooms[room].push_back(socket);
}

void Server::leave(Socket* socket, const std::string& room) {
  Shard& s = shard(room);
  std::lock_guard lock(s.mutex);
  auto it = s.rooms.find(room);
  if (it == s.rooms.end()) return;
  auto& v = it->second;
  v.erase(std::remove_if(v.begin(), v.end(),
                         [socket](const std::weak_ptr<Socket>& w) {
                           auto p = w.lock();
                           return !p || p.get() == socket;
                         }),
          v.end());
  if (v.empty()) s.rooms.erase(it);
}

std::vector<std::shared_ptr<Socket>> Server::members(const std::string& room) {
  std::vector<std::shared_ptr<Socket>> out;
  Shard& s = shard(room);
  std::lock_guard lock(s.mutex);
  auto it = s.rooms.find(room);
  if (it == s.rooms.end()) return out;
  out.reserve(it->second.size());
  for (const auto& w : it->second) {
    if (auto p = w.lock()) out.push_back(std::move(p));
  }
  return out;
}

std::size_t Server::room_size(const std::string& room) {
  return members(room).size();
}

void Server::run_per_thread(std::vector<std::shared_ptr<Socket>> sockets,
                            const std::function<void(const std::shared_ptr<Socket>&)>& fn) {
  // Most rooms (a user's devices) live on one thread: one hand-off, no grouping.
  const void* first = sockets.front()->session_->thread_token();
  if (std::all_of(sockets.begin(), sockets.end(),
                  [first](const auto& s) { return s->session_->thread_token() == first; })) {
    auto session = sockets.front()->session_;
    session->post_to_thread([group = std::move(sockets), fn] {
      for (const auto& socket : group) {
        if (socket->open()) fn(socket);
      }
    });
    return;
  }
  // Few I/O threads: a linear scan groups them.
  std::vector<std::pair<const void*, std::vector<std::shared_ptr<Socket>>>> groups;
  for (auto& socket : sockets) {
    const void* token = socket->session_->thread_token();
    auto it = std::find_if(groups.begin(), groups.end(),
                           [token](const auto& g) { return g.first == token; });
    if (it == groups.end()) {
      groups.emplace_back(token, std::vector<std::shared_ptr<Socket>>{});
      it = groups.end() - 1;
    }
    it->second.push_back(std::move(socket));
  }
  for (auto& [token, group] : groups) {
    auto session = group.front()->session_;
    session->post_to_thread([group = std::move(group), fn] {
      for (const auto& socket : group) {
        if (socket->open()) fn(socket);
      }
    });
  }
}

void Server::emit_to_room(const std::string& room, std::string_view array_json) {
  emit_to(members(room), array_json);
}

std::vector<std::shared_ptr<Socket>> Server::members_of(const std::vector<std::string>& rooms,
                                                        std::string_view except_id) {
  std::vector<std::shared_ptr<Socket>> targets;
  for (const auto& room : rooms) {
    auto in_room = members(room);
    if (targets.empty()) {
      targets = std::move(in_room);
    } else {
      targets.insert(targets.end(), std::make_move_iterator(in_room.begin()),
                     std::make_move_iterator(in_room.end()));
    }
  }
  if (!except_id.empty()) {
    std::erase_if(targets, [except_id](const auto& t) { return t->id() == except_id; });
  }
  return targets;
}

void Server::emit_to_rooms(const std::vector<std::string>& rooms, std::string_view array_json,
                           std::string_view except_id) {
  emit_to(members_of(rooms, except_id), array_json);
}

void Server::emit_to(std::vector<std::shared_ptr<Socket>> targets, std::string_view array_json) {
  if (targets.empty()) return;
  // Encoded once; every socket shares the bytes.
  auto packet = std::make_shared<const std::string>(
      encode(PacketType::event, targets.front()->nsp(), std::nullopt, array_json));
  run_per_thread(std::move(targets),
                 [packet](const std::shared_ptr<Socket>& socket) { socket->send_packet(*packet); });
}

void Server::emit_to_room(const std::string& room, const std::vector<std::string>& array_jsons) {
  auto targets = members(room);
  if (targets.empty() || array_jsons.empty()) return;
  auto packets = std::make_shared<std::vector<std::string>>();
  packets->reserve(array_jsons.size());
  for (const auto& json : array_jsons) {
    packets->push_back(encode(PacketType::event, targets.front()->nsp(), std::nullopt, json));
  }
  run_per_thread(std::move(targets), [packets](const std::shared_ptr<Socket>& socket) {
    for (const auto& packet : *packets) socket->send_packet(packet);
  });
}

void Server::for_each_in_room(const std::string& room,
                              const std::function<void(const std::shared_ptr<Socket>&)>& fn,
                              std::string_view except_id) {
  auto targets = members(room);
  if (!except_id.empty()) {
    std::erase_if(targets, [except_id](const auto& s) { return s->id() == except_id; });
  }
  if (!targets.empty()) run_per_thread(std::move(targets), fn);
}

void Server::for_each_in_rooms(const std::vector<std::string>& rooms,
                               const std::function<void(const std::shared_ptr<Socket>&)>& fn,
                               std::string_view except_id) {
  auto targets = members_of(rooms, except_id);
  if (!targets.empty()) run_per_thread(std::move(targets), fn);
}

}  // namespace parley::socketio
