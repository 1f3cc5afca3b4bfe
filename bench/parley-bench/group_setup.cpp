#include "parley-bench/group_setup.hpp"

#include <chrono>

#include <rapidjson/document.h>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include "parley-bench/http_client.hpp"

namespace parley::bench {

std::string group_create_body(std::string_view name, const std::vector<Account>& members) {
  std::string body = fmt::format(R"({{"type":"group","name":"{}","memberIds":[)", name);
  for (std::size_t i = 1; i < members.size(); ++i) {
    if (i > 1) body += ',';
    body += '"';
    body += members[i].id;
    body += '"';
  }
  body += "]}";
  return body;
}

std::optional<std::string> create_group(const ServerTarget& target,
                                        const std::optional<boost::asio::ip::address>& source,
                                        std::string_view name, const std::vector<Account>& members,
                                        double timeout_s, std::string& error) {
  boost::asio::io_context io(1);
  HttpClient client(io, target, source);
  std::optional<std::string> id;
  bool answered = false;
  const std::string body = group_create_body(name, members);
  client.request("/api/conversations", body, members.front().token, [&](const HttpAnswer& a) {
    answered = true;
    if (!a.error.empty()) {
      error = fmt::format("creating the group: {}", a.error);
      return;
    }
    if (a.status != 201) {
      error = fmt::format("creating the group of {} members: HTTP {} {}", members.size(), a.status,
                          a.body.substr(0, std::min<std::size_t>(a.body.size(), 200)));
      return;
    }
    rapidjson::Document doc;
    doc.Parse(a.body.data(), a.body.size());
    const auto it = doc.IsObject() ? doc.FindMember("_id") : doc.MemberEnd();
    if (doc.HasParseError() || !doc.IsObject() || it == doc.MemberEnd() || !it->value.IsString()) {
      error = fmt::format("creating the group: unexpected answer {}",
                          a.body.substr(0, std::min<std::size_t>(a.body.size(), 200)));
      return;
    }
    id.emplace(it->value.GetString(), it->value.GetStringLength());
  });
  io.run_for(std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000)));
  if (!answered) error = fmt::format("creating the group: no answer within {} s", timeout_s);
  return id;
}

}  // namespace parley::bench
