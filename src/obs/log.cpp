#include "obs/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace parley::obs {

namespace {

bool g_json = false;  // written once by init_logging, before other threads

spdlog::level::level_enum to_spd(Level level) {
  switch (level) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

void init_logging(std::string_view level, bool json) {
  g_json = json;
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>(
      "parley", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
  if (json) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void shutdown_logging() {
  spdlog::default_logger()->flush();
  spdlog::shutdown();
}

bool enabled(Level level) {
  return spdlog::default_logger_raw()->should_log(to_spd(level));
}

void write(Level level, std::string_view message) {
  if (g_json) {
    std::string line = "\"msg\":";
    append_json_string(line, message);
    spdlog::default_logger_raw()->log(to_spd(level), line);
  } else {
    spdlog::default_logger_raw()->log(to_spd(level), message);
  }
}

void log_request(std::string_view method, std::string_view path, int status, double duration_ms,
                 std::string_view request_id) {
  if (!enabled(Level::info)) return;
  if (g_json) {
    std::string line = "\"msg\":\"request\",\"method\":";
    append_json_string(line, method);
    line += ",\"path\":";
    append_json_string(line, path);
    line += fmt::format(",\"status\":{},\"durationMs\":{:.3f},\"requestId\":", status, duration_ms);
    append_json_string(line, request_id);
    spdlog::default_logger_raw()->info(line);
  } else {
    spdlog::default_logger_raw()->info(
        fmt::format("{} {} {} {:.3f}ms {}", method, path, status, duration_ms, request_id));
  }
}

}  // namespace parley::obs
