// Command-line options of parley-bench: one struct for every mode, parsed
// from `parley-bench <mode> [--name value | --name=value]...`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::bench {

enum class Mode { pairs, group, idle, http };
enum class HttpKind { send, history };

struct Options {
  Mode mode = Mode::pairs;

  // Common.
  std::string url = "http://127.0.0.1:4000";
  std::optional<int> server_pid;
  double duration_s = 10;
  double warmup_s = 2;
  unsigned source_ips = 1;  // 127.0.0.1 .. 127.0.0.N; 1: let the kernel choose
  unsigned threads = 1;
  unsigned connect_concurrency = 128;  // under the server's default 256 pending sessions per IP
  unsigned register_concurrency = 16;
  double connect_timeout_s = 60;
  double drain_s = 5;
  bool progress = true;

  // pairs, group
  unsigned pairs = 100;
  unsigned window = 16;
  unsigned text_bytes = 32;

  // group: a few talkers in a large group (see the help).
  unsigned members = 200;
  unsigned senders = 4;

  // idle
  unsigned sockets = 1000;
  unsigned users = 100;
  double hold_s = 5;
  double settle_s = 1;

  // http
  unsigned connections = 64;
  HttpKind kind = HttpKind::send;
  unsigned seed_messages = 50;
};

// What parsing decided: run with the options, print the help, or fail.
struct ParseResult {
  enum class Action { run, help, error } action = Action::run;
  Options options;
  std::string error;
};

ParseResult parse_options(const std::vector<std::string_view>& args);

std::string_view help_text();
std::string_view mode_name(Mode mode);

}  // namespace parley::bench
