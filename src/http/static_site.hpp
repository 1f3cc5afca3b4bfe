// parley::http StaticSite: a built web client (WEB_ROOT) held in memory and
// served at "/".
//
// DESIGN
// - Every regular file under the root is read once, at start-up, with its
//   ETag (size and a hash of the bytes). Requests never touch the file
//   system, so nothing blocks an I/O thread, and a request path can only
//   name a file that was loaded: `..`, absolute paths and symlinks pointing
//   outside cannot reach anything else. Loading itself skips symlinks and
//   everything that is not a regular file, and is bounded: per file
//   (kMaxFileBytes), in total (WEB_MAX_BYTES) and in count (kMaxFiles); a
//   root over a bound refuses to start rather than serve half a client.
// - Hashed build assets (Vite's `assets/<name>-<hash>.<ext>`) are cached for
//   a year as immutable; everything else (index.html first) is revalidated
//   with If-None-Match on every use (`no-cache`), answered 304.
// - A GET or HEAD for a path that names no file, has no extension in its
//   last segment and accepts text/html gets index.html: the client routes
//   in the browser. Paths under the excluded prefixes (/api, /socket.io,
//   /metrics) and other misses are the contract's JSON 404.
// - Immutable after load(); respond() is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "http/message.hpp"

namespace parley::http {

struct StaticSiteLimits {
  std::size_t max_total_bytes = 64 * 1024 * 1024;  // WEB_MAX_BYTES
  static constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
  static constexpr std::size_t kMaxFiles = 4096;
};

// The longest request path looked up (before decoding); longer is a 404.
inline constexpr std::size_t kMaxStaticPathBytes = 1024;

// The file a request path names, relative to the root ("index.html" for
// "/"), or nullopt when the path is not one a loaded file could have: too
// long, a bad %-escape, a NUL or a backslash, a `..` segment, or a segment
// starting with '.' (dotfiles are never served).
std::optional<std::string> static_file_key(std::string_view request_path);

// Whether `key` is a content-hashed build asset, safe to cache forever.
bool is_hashed_asset(std::string_view key);

// Whether an If-None-Match header value matches `etag` (weak comparison,
// lists and "*" included).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

class StaticSite {
 public:
  struct File {
    std::string body;
    std::string etag;  // quoted, strong
    std::string_view content_type;
    bool immutable = false;
  };

  // Reads every regular file under `root`. Fails (with the reason) on a
  // missing root or a bound exceeded.
  static core::Result<StaticSite> load(const std::filesystem::path& root,
                                       const StaticSiteLimits& limits,
                                       std::vector<std::string> excluded_prefixes);

  // The answer to a request the router had no route for.
  Response respond(const Request& req) const;

  std::size_t file_count() const { return files_.size(); }
  std::size_t total_bytes() const { return total_bytes_; }
  const File* find(std::string_view key) const;

 private:
  bool excluded(std::string_view path) const;

  std::unordered_map<std::string, File> files_;
  std::vector<std::string> excluded_prefixes_;
  std::size_t total_bytes_ = 0;
};

}  // namespace parley::http
