// parley::obs logging. One process-wide logger writing to stdout through a
// background thread, so an I/O thread never waits on the terminal or a pipe
// (when the queue is full the oldest lines are dropped, never the caller
// blocked). Text lines in development, JSON lines in production.
// All functions are thread-safe after init_logging().
#pragma once

#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace parley::obs {

enum class Level { trace, debug, info, warn, error };

// Call once from main before any other thread starts. `level` is one of
// trace, debug, info, warn, error, off.
void init_logging(std::string_view level, bool json);
// Flushes and stops the background thread (main, at exit).
void shutdown_logging();
bool enabled(Level level);

void write(Level level, std::string_view message);

template <typename... Args>
void log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
}

// One line per HTTP request: method, path, status, duration, request id.
void log_request(std::string_view method, std::string_view path, int status, double duration_ms,
                 std::string_view request_id);

}  // namespace parley::obs
