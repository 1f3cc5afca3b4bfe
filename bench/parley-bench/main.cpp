// parley-bench: a load generator for parleyd (see --help and README.md).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "parley-bench/modes.hpp"
#include "parley-bench/options.hpp"
#include "parley-bench/run_support.hpp"

namespace parley::bench {

int fail_early(const Options& options, const std::string& error) {
  fmt::print(stderr, "parley-bench: {}\n", error);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  begin_result(w, options);
  w.Key("ok");
  w.Bool(false);
  w.Key("error");
  w.String(error.data(), static_cast<rapidjson::SizeType>(error.size()));
  w.EndObject();
  print_result(buf);
  return 1;
}

}  // namespace parley::bench

int main(int argc, char** argv) {
  namespace pb = parley::bench;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const pb::ParseResult parsed = pb::parse_options(args);
  switch (parsed.action) {
    case pb::ParseResult::Action::help:
      std::fwrite(pb::help_text().data(), 1, pb::help_text().size(), stdout);
      return 0;
    case pb::ParseResult::Action::error:
      fmt::print(stderr, "parley-bench: {}\nTry parley-bench --help.\n", parsed.error);
      return 2;
    case pb::ParseResult::Action::run: break;
  }
  try {
    switch (parsed.options.mode) {
      case pb::Mode::pairs: return pb::run_pairs(parsed.options);
      case pb::Mode::group: return pb::run_group(parsed.options);
      case pb::Mode::idle: return pb::run_idle(parsed.options);
      case pb::Mode::http: return pb::run_http(parsed.options);
    }
  } catch (const std::exception& e) {
    // Start-up failures only (threads, sockets): the loops report errors as values.
    return pb::fail_early(parsed.options, e.what());
  }
  return 2;
}
