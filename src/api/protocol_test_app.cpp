#include "api/protocol_test_app.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace parley::api {

namespace {

// ["<name>", args[1..]...] as JSON.
std::string rename_event(const rapidjson::Document& args, const char* name, bool drop_name) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  if (!drop_name) w.String(name);
  for (rapidjson::SizeType i = 1; i < args.Size(); ++i) args[i].Accept(w);
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

class EchoHandler final : public engineio::SessionHandler {
 public:
  explicit EchoHandler(std::shared_ptr<engineio::Session> s) : session_(std::move(s)) {}
  void on_message(std::string data, bool binary) override {
    session_->send(std::move(data), binary);
  }
  void on_close(std::string_view) override { session_.reset(); }

 private:
  std::shared_ptr<engineio::Session> session_;
};

}  // namespace

bool ProtocolTestApp::has_namespace(std::string_view nsp) const {
  return nsp == "/" || nsp == "/custom";
}

void ProtocolTestApp::authorize(const std::shared_ptr<socketio::Socket>&,
                                std::function<void(std::string)> decide) {
  decide({});
}

void ProtocolTestApp::on_connect(const std::shared_ptr<socketio::Socket>& socket) {
  // The suites read the CONNECT answer and this event with two separate
  // one-shot listeners; frames that reach them in one TCP read would fire
  // both before the second listener exists. A short gap keeps them apart.
  socket->after(std::chrono::milliseconds(20),
                [socket] { socket->emit("[\"auth\"," + socket->auth_json() + "]"); });
}

void ProtocolTestApp::on_event(const std::shared_ptr<socketio::Socket>& socket,
                               socketio::Event event) {
  if (event.name == "message") {
    socket->emit(rename_event(event.args, "message-back", false), event.attachments);
  } else if (event.name == "message-with-ack" && event.ack_id) {
    socket->ack(*event.ack_id, rename_event(event.args, "", true), event.attachments);
  }
}

void ProtocolTestApp::on_disconnect(const std::shared_ptr<socketio::Socket>&, std::string_view) {}

engineio::HandlerFactory engineio_echo_factory() {
  return [](std::shared_ptr<engineio::Session> session) {
    return std::make_shared<EchoHandler>(std::move(session));
  };
}

}  // namespace parley::api
