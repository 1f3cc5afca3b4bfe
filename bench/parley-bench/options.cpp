#include "parley-bench/options.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace parley::bench {
namespace {

constexpr std::string_view kHelp = R"(parley-bench: a load generator for Parley (parleyd).

Usage: parley-bench <mode> [options]
       parley-bench --help

Modes:
  pairs   N sender/receiver pairs of fresh users over Socket.IO (WebSocket).
          Each sender keeps exactly W message:send in flight to its receiver;
          measures acked and received messages per second, send-to-ack and
          send-to-receipt latency, and counts lost and duplicated messages.
  group   One group of M fresh users, all online with one socket each; S of
          them each keep W message:send in flight to the group, and every
          member acks every message:received. Measures deliveries (a message
          received by one member) per second, message:delivered receipts,
          latencies, lost and duplicated deliveries, and the server's CPU per
          message and per delivery.
  idle    C authenticated Socket.IO sockets over U users, held open:
          connect rate and the server's memory per socket.
  http    C keep-alive HTTP/1.1 connections doing POST /api/messages/send
          (--kind send) or GET /api/messages/<peerId>?limit=50 (--kind history).

The server under test must run with RATE_LIMIT_DISABLED=1 (and
BCRYPT_ROUNDS=4 to register users quickly); in idle mode with
MAX_SOCKETS_PER_USER >= C/U, and MAX_CONNECTIONS_PER_IP >= the sockets per
source address; in group mode with MAX_GROUP_MEMBERS >= M when M > 256, and
SOCKET_QUEUE_MAX_PACKETS raised (65536 for the defaults): each sender gets
M-1 message:delivered per message, in bursts above the default 4096.

Common options:
  --url URL                 server base URL (http only)   [http://127.0.0.1:4000]
  --server-pid PID          read the server's CPU time (/proc/PID/stat) over the
                            measured interval and its RSS (/proc/PID/status)
  --duration SECONDS        measured interval                               [10]
  --warmup SECONDS          load before the measured interval (pairs, group,
                            http)                                            [2]
  --threads N               event-loop threads                               [1]
  --source-ips N            bind client connections to 127.0.0.1 .. 127.0.0.N,
                            round-robin (1: the kernel chooses)              [1]
  --connect-concurrency N   sockets handshaking at once                    [128]
  --register-concurrency N  registrations in flight                         [16]
  --connect-timeout SECONDS deadline for registering and connecting all     [60]
  --drain SECONDS           pairs, group: after the interval, how long to wait for
                            in-flight messages before counting losses        [5]
  --no-progress             no progress line on stderr

pairs:
  --pairs N                 sender/receiver pairs (2N users and sockets)    [100]
  --window W                un-acked message:send per sender                 [16]
  --text-bytes B            message text length (1-4000)                     [32]

group:
  --members M               users in the group, one socket each            [200]
                            (above 256 the server needs MAX_GROUP_MEMBERS
                            raised to at least M)
  --senders S               members that send, each with its own window (at
                            most M): a few talkers, as in a large group; 4 x
                            16 keeps 64 messages, about 12,700 deliveries at
                            M=200, in flight                                [4]
  --window W                un-acked message:send per sender                 [16]
  --text-bytes B            message text length (1-4000)                     [32]

idle:
  --sockets C               sockets to open                                [1000]
  --users U                 users they belong to, round-robin              [100]
  --hold SECONDS            how long to keep them open                        [5]
  --settle SECONDS          wait after the last connect before reading RSS    [1]

http:
  --connections C           connections, each with its own sender and peer  [64]
  --kind send|history       the request                                   [send]
  --seed N                  history: messages stored per pair first         [50]
  --text-bytes B            message text length                             [32]

Output: a progress line on stderr about once a second, and one JSON object
on stdout at the end (see bench/parley-bench/README.md for its keys). Exit
status: 0 success; 1 the run failed (cannot register or connect, cannot
create the group, a socket dropped, an error ack, lost or duplicated
messages, HTTP errors); 2 bad usage.
)";

bool parse_number(std::string_view text, double& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

bool parse_number(std::string_view text, unsigned& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

using Setter = std::function<std::string(Options&, std::string_view)>;

Setter seconds(double Options::*field, double min) {
  return [field, min](Options& o, std::string_view v) -> std::string {
    double d = 0;
    if (!parse_number(v, d) || d < min || d > 86400) {
      return fmt::format("expects seconds from {} to 86400", min);
    }
    o.*field = d;
    return {};
  };
}

Setter count(unsigned Options::*field, unsigned min, unsigned max) {
  return [field, min, max](Options& o, std::string_view v) -> std::string {
    unsigned n = 0;
    if (!parse_number(v, n) || n < min || n > max) {
      return fmt::format("expects an integer from {} to {}", min, max);
    }
    o.*field = n;
    return {};
  };
}

const std::map<std::string_view, Setter>& setters() {
  static const std::map<std::string_view, Setter> table{
      {"url",
       [](Options& o, std::string_view v) -> std::string {
         o.url.assign(v);
         return {};
       }},
      {"server-pid",
       [](Options& o, std::string_view v) -> std::string {
         unsigned pid = 0;
         if (!parse_number(v, pid) || pid == 0 || pid > 0x3fffffff) return "expects a process id";
         o.server_pid = static_cast<int>(pid);
         return {};
       }},
      {"duration", seconds(&Options::duration_s, 0.1)},
      {"warmup", seconds(&Options::warmup_s, 0)},
      {"threads", count(&Options::threads, 1, 64)},
      {"source-ips", count(&Options::source_ips, 1, 254)},
      {"connect-concurrency", count(&Options::connect_concurrency, 1, 100000)},
      {"register-concurrency", count(&Options::register_concurrency, 1, 1024)},
      {"connect-timeout", seconds(&Options::connect_timeout_s, 0.1)},
      {"drain", seconds(&Options::drain_s, 0)},
      {"pairs", count(&Options::pairs, 1, 50000)},
      {"window", count(&Options::window, 1, 100000)},
      {"text-bytes", count(&Options::text_bytes, 1, 4000)},
      {"members", count(&Options::members, 2, 100000)},
      {"senders", count(&Options::senders, 1, 100000)},
      {"sockets", count(&Options::sockets, 1, 1000000)},
      {"users", count(&Options::users, 1, 1000000)},
      {"hold", seconds(&Options::hold_s, 0)},
      {"settle", seconds(&Options::settle_s, 0)},
      {"connections", count(&Options::connections, 1, 100000)},
      {"seed", count(&Options::seed_messages, 1, 100000)},
      {"kind",
       [](Options& o, std::string_view v) -> std::string {
         if (v == "send") {
           o.kind = HttpKind::send;
         } else if (v == "history") {
           o.kind = HttpKind::history;
         } else {
           return "expects send or history";
         }
         return {};
       }},
  };
  return table;
}

}  // namespace

std::string_view help_text() {
  return kHelp;
}

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::pairs: return "pairs";
    case Mode::group: return "group";
    case Mode::idle: return "idle";
    case Mode::http: return "http";
  }
  return "?";
}

ParseResult parse_options(const std::vector<std::string_view>& args) {
  ParseResult r;
  auto fail = [&r](std::string message) {
    r.action = ParseResult::Action::error;
    r.error = std::move(message);
    return r;
  };
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") {
      r.action = ParseResult::Action::help;
      return r;
    }
  }
  if (args.empty()) return fail("no mode given (pairs, group, idle or http)");
  if (args[0] == "pairs") {
    r.options.mode = Mode::pairs;
  } else if (args[0] == "group") {
    r.options.mode = Mode::group;
  } else if (args[0] == "idle") {
    r.options.mode = Mode::idle;
  } else if (args[0] == "http") {
    r.options.mode = Mode::http;
  } else {
    return fail(fmt::format("unknown mode '{}' (pairs, group, idle or http)", args[0]));
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) return fail(fmt::format("unexpected argument '{}'", arg));
    arg.remove_prefix(2);
    if (arg == "no-progress") {
      r.options.progress = false;
      continue;
    }
    std::string_view value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return fail(fmt::format("--{} needs a value", arg));
      value = args[++i];
    }
    const auto it = setters().find(arg);
    if (it == setters().end()) return fail(fmt::format("unknown option --{}", arg));
    if (std::string why = it->second(r.options, value); !why.empty()) {
      return fail(fmt::format("--{} {}: {}", arg, value, why));
    }
  }
  if (r.options.mode == Mode::group && r.options.senders > r.options.members) {
    return fail(fmt::format("--senders {} is more than the {} --members", r.options.senders,
                            r.options.members));
  }
  return r;
}

}  // namespace parley::bench
