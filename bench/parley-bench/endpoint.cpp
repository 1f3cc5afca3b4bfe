#include "parley-bench/endpoint.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>

#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

namespace parley::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<ServerTarget> resolve_target(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    error = fmt::format("--url {}: only http:// URLs are supported", url);
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    error = fmt::format("--url {}: expected http://host[:port] with no path", url);
    return std::nullopt;
  }
  std::string_view host = rest;
  std::string_view port = "80";
  if (host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) {
      error = fmt::format("--url {}: unterminated IPv6 address", url);
      return std::nullopt;
    }
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') {
        error = fmt::format("--url {}: bad port", url);
        return std::nullopt;
      }
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  unsigned port_number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (ec != std::errc() || end != port.data() + port.size() || port_number == 0 ||
      port_number > 65535) {
    error = fmt::format("--url {}: bad port", url);
    return std::nullopt;
  }
  asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code rec;
  const auto results = resolver.resolve(std::string(host), std::string(port), rec);
  if (rec || results.empty()) {
    error = fmt::format("cannot resolve {}: {}", host, rec ? rec.message() : "no address");
    return std::nullopt;
  }
  ServerTarget t;
  t.endpoint = results.begin()->endpoint();
  t.host_header = std::string(rest);
  return t;
}

std::optional<asio::ip::address> SourceAddresses::for_index(std::size_t index) const {
  if (count_ <= 1) return std::nullopt;
  const auto last = static_cast<unsigned>(index % count_) + 1;
  return asio::ip::address_v4((127U << 24) | last);
}

boost::system::error_code open_socket(tcp::socket& socket, const tcp::endpoint& server,
                                      const std::optional<asio::ip::address>& source) {
  boost::system::error_code ec;
  socket.open(server.protocol(), ec);
  if (ec || !source) return ec;
  const int one = 1;
  // Best effort: without it (kernels before 4.2) bind picks the port now.
  ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  socket.bind(tcp::endpoint(*source, 0), ec);
  return ec;
}

}  // namespace parley::bench
