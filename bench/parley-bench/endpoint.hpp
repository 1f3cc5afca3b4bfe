// Where the server is and where client connections come from: the --url
// resolved once, and the --source-ips spread of local addresses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace parley::bench {

struct ServerTarget {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string host_header;  // "host:port", as the Host header carries it
};

// Resolves an http:// URL (no path) to one IPv4 or IPv6 endpoint; on
// failure returns nullopt and says why in `error`.
std::optional<ServerTarget> resolve_target(std::string_view url, std::string& error);

// Spreads connections over `count` loopback source addresses, so per-IP
// limits and the ephemeral ports of one source address are not what a run
// measures. With a count of 1 the kernel chooses.
class SourceAddresses {
 public:
  explicit SourceAddresses(unsigned count) : count_(count) {}
  // The address connection number `index` binds to, round-robin over
  // 127.0.0.1 .. 127.0.0.N; nullopt with a count of 1.
  std::optional<boost::asio::ip::address> for_index(std::size_t index) const;

 private:
  unsigned count_;
};

// Opens `socket` for `server`'s protocol and binds it to `source` if given,
// leaving the port to be chosen at connect time (IP_BIND_ADDRESS_NO_PORT),
// so bound sockets share the ephemeral range per destination as unbound
// ones do.
boost::system::error_code open_socket(boost::asio::ip::tcp::socket& socket,
                                      const boost::asio::ip::tcp::endpoint& server,
                                      const std::optional<boost::asio::ip::address>& source);

}  // namespace parley::bench
