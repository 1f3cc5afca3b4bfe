// The hand-over of an HTTP connection to a protocol that upgrades it
// (WebSocket). Included only by transport code: it names Beast types.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace parley::http {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

class UpgradeHandler {
 public:
  virtual ~UpgradeHandler() = default;
  // Runs on the connection's I/O thread and takes over the socket; `buffer`
  // holds any bytes read past the request head. `slot` is the connection's
  // place under MAX_CONNECTIONS: hold it as long as the socket is open.
  virtual void upgrade(boost::asio::ip::tcp::socket socket, UpgradeRequest request,
                       const boost::beast::flat_buffer& buffer, std::string client_ip,
                       std::shared_ptr<void> slot) = 0;
};

}  // namespace parley::http
