// The server the public Engine.IO and Socket.IO protocol test suites expect
// (PROTOCOL_TEST_MODE=1, never in production): an Engine.IO echo at
// /engine.io/, and on /socket.io/ the namespaces "/" and "/custom", an
// "auth" event echoing the CONNECT payload, and "message" /
// "message-with-ack" echoed back with their binary attachments.
#pragma once

#include <memory>

#include "engineio/session.hpp"
#include "socketio/server.hpp"

namespace parley::api {

class ProtocolTestApp final : public socketio::Application {
 public:
  bool has_namespace(std::string_view nsp) const override;
  void authorize(const std::shared_ptr<socketio::Socket>& socket,
                 std::function<void(std::string error)> decide) override;
  void on_connect(const std::shared_ptr<socketio::Socket>& socket) override;
  void on_event(const std::shared_ptr<socketio::Socket>& socket, socketio::Event event) override;
  void on_disconnect(const std::shared_ptr<socketio::Socket>& socket,
                     std::string_view reason) override;
};

// Engine.IO sessions that send every message back as it came.
engineio::HandlerFactory engineio_echo_factory();

}  // namespace parley::api
