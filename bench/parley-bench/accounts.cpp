#include "parley-bench/accounts.hpp"

#include <unistd.h>

#include <chrono>
#include <memory>

#include <rapidjson/document.h>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include "parley-bench/http_client.hpp"
#include "parley-bench/proc_stats.hpp"
#include "parley-bench/run_support.hpp"

namespace parley::bench {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kPassword = "bench password 1";

struct Registrar {
  Registrar(std::string_view p, std::vector<Account>& a) : prefix(p), accounts(a) {}

  std::string_view prefix;
  std::vector<Account>& accounts;
  std::size_t next = 0;
  std::size_t done = 0;
  std::string error;

  void register_next(HttpClient& client) {
    if (next >= accounts.size() || !error.empty()) return;
    const std::size_t i = next++;
    const std::string body =
        fmt::format(R"({{"name":"bench {} {}","email":"pb-{}-{}@bench.example","password":"{}"}})",
                    prefix, i, prefix, i, kPassword);
    client.request("/api/auth/register", body, {}, [this, &client, i](const HttpAnswer& a) {
      if (!a.error.empty()) {
        if (error.empty()) error = fmt::format("registering user {}: {}", i, a.error);
        return;
      }
      if (a.status != 201) {
        if (error.empty()) {
          error = fmt::format("registering user {}: HTTP {} {}", i, a.status,
                              a.body.substr(0, std::min<std::size_t>(a.body.size(), 200)));
        }
        return;
      }
      if (!store(i, a.body)) {
        if (error.empty())
          error = fmt::format("registering user {}: unexpected answer {}", i, a.body);
        return;
      }
      ++done;
      register_next(client);
    });
  }

  bool store(std::size_t i, std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) return false;
    const auto token = doc.FindMember("token");
    const auto user = doc.FindMember("user");
    if (token == doc.MemberEnd() || !token->value.IsString() || user == doc.MemberEnd() ||
        !user->value.IsObject()) {
      return false;
    }
    const auto id = user->value.FindMember("_id");
    if (id == user->value.MemberEnd() || !id->value.IsString()) return false;
    accounts[i].id.assign(id->value.GetString(), id->value.GetStringLength());
    accounts[i].token.assign(token->value.GetString(), token->value.GetStringLength());
    return true;
  }
};

}  // namespace

std::string run_prefix() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return fmt::format("{:x}{:x}", static_cast<unsigned>(::getpid()), ms);
}

std::optional<std::vector<Account>> register_accounts(const ServerTarget& target,
                                                      const SourceAddresses& sources,
                                                      std::string_view prefix,
                                                      const RegisterPlan& plan,
                                                      std::string& error) {
  std::vector<Account> accounts(plan.count);
  asio::io_context io(1);
  Registrar registrar(prefix, accounts);
  std::vector<std::unique_ptr<HttpClient>> clients;
  const std::size_t n = std::min<std::size_t>(plan.concurrency, plan.count);
  for (std::size_t i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<HttpClient>(io, target, sources.for_index(i)));
  }
  for (auto& c : clients) registrar.register_next(*c);
  Progress progress(plan.progress);
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(plan.timeout_s * 1e9);
  while (registrar.done < plan.count && registrar.error.empty()) {
    if (monotonic_ns() >= deadline) {
      error = fmt::format("registering: {} of {} users after {} s", registrar.done, plan.count,
                          plan.timeout_s);
      return std::nullopt;
    }
    io.run_for(std::chrono::milliseconds(100));
    if (progress.due()) progress.line(fmt::format("registered {}/{}", registrar.done, plan.count));
  }
  if (!registrar.error.empty()) {
    error = registrar.error;
    return std::nullopt;
  }
  return accounts;
}

}  // namespace parley::bench
