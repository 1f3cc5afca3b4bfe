#include "http/static_site.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "http/content_type.hpp"

namespace parley::http {

namespace fs = std::filesystem;

namespace {

// FNV-1a: enough to tell two versions of a file apart for an ETag (not a
// defence against anyone: the server chose the bytes).
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

bool accepts_html(const Request& req) {
  const auto accept = req.header("accept");
  return accept.find("text/html") != std::string_view::npos;
}

bool has_extension(std::string_view key) {
  const auto slash = key.rfind('/');
  const auto name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  return name.find('.') != std::string_view::npos;
}

Response not_found() {
  return Response::error(core::Error::make(core::ErrorCode::not_found, "Route not found"));
}

core::Result<std::string> read_file(const fs::path& path, std::size_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::fail(core::Error::internal("cannot open " + path.string()));
  std::string body(size, '\0');
  in.read(body.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size) {
    return core::fail(core::Error::internal("short read of " + path.string()));
  }
  return body;
}

}  // namespace

std::optional<std::string> static_file_key(std::string_view request_path) {
  if (request_path.size() > kMaxStaticPathBytes) return std::nullopt;
  std::string decoded;
  if (!url_decode(request_path, decoded, false)) return std::nullopt;
  if (decoded.find('\0') != std::string::npos || decoded.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::string key;
  std::size_t start = 0;
  while (start <= decoded.size()) {
    auto end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    const std::string_view seg(decoded.data() + start, end - start);
    start = end + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg.front() == '.') return std::nullopt;  // "..", dotfiles
    if (!key.empty()) key += '/';
    key += seg;
  }
  // The root means index.html; other directories are not listed.
  if (key.empty()) return std::string("index.html");
  return key;
}

bool is_hashed_asset(std::string_view key) {
  // Vite names a built file `<name>-<8 characters of base64url hash>.<ext>`;
  // the hash itself may hold '-', so it is found by its length.
  constexpr std::size_t kHashLength = 8;
  if (!key.starts_with("assets/")) return false;
  const auto name = key.substr(key.rfind('/') + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot < kHashLength + 2) return false;
  if (name[dot - kHashLength - 1] != '-') return false;
  const auto hash = name.substr(dot - kHashLength, kHashLength);
  return std::all_of(hash.begin(), hash.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    auto item = trim_ows(if_none_match.substr(0, comma));
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

core::Result<StaticSite> StaticSite::load(const fs::path& root, const StaticSiteLimits& limits,
                                          std::vector<std::string> excluded_prefixes) {
  std::error_code ec;
  const fs::path base = fs::canonical(root, ec);
  if (ec || !fs::is_directory(base, ec)) {
    return core::fail(
        core::Error::internal(fmt::format("WEB_ROOT {} is not a directory", root.string())));
  }
  StaticSite site;
  site.excluded_prefixes_ = std::move(excluded_prefixes);
  // Directory symlinks are not followed (the iterator's default), and file
  // symlinks are skipped below: only what lies under the root is served.
  fs::recursive_directory_iterator it(base, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    if (ec) break;
    if (!fs::is_regular_file(status)) continue;
    const std::string key = it->path().lexically_relative(base).generic_string();
    if (key.empty() || key.find('\\') != std::string::npos) continue;
    const auto size = it->file_size(ec);
    if (ec) break;
    if (size > StaticSiteLimits::kMaxFileBytes) {
      return core::fail(core::Error::internal(
          fmt::format("WEB_ROOT file {} is over {} bytes", key, StaticSiteLimits::kMaxFileBytes)));
    }
    if (site.files_.size() + 1 > StaticSiteLimits::kMaxFiles ||
        site.total_bytes_ + size > limits.max_total_bytes) {
      return core::fail(core::Error::internal(
          fmt::format("WEB_ROOT {} holds more than {} files or WEB_MAX_BYTES={} bytes",
                      base.string(), StaticSiteLimits::kMaxFiles, limits.max_total_bytes)));
    }
    auto body = read_file(it->path(), static_cast<std::size_t>(size));
    if (!body) return tl::unexpected(body.error());
    File f;
    f.etag = fmt::format("\"{:x}-{:016x}\"", body->size(), fnv1a(*body));
    f.body = std::move(*body);
    f.content_type = content_type_for(key);
    f.immutable = is_hashed_asset(key);
    site.total_bytes_ += f.body.size();
    site.files_.emplace(key, std::move(f));
  }
  if (ec) {
    return core::fail(
        core::Error::internal(fmt::format("reading WEB_ROOT {}: {}", base.string(), ec.message())));
  }
  return site;
}

const StaticSite::File* StaticSite::find(std::string_view key) const {
  const auto it = files_.find(std::string(key));
  return it == files_.end() ? nullptr : &it->second;
}

bool StaticSite::excluded(std::string_view path) const {
  return std::any_of(
      excluded_prefixes_.begin(), excluded_prefixes_.end(), [path](const std::string& p) {
        return istarts_with(path, p) && (path.size() == p.size() || path[p.size()] == '/');
      });
}

Response StaticSite::respond(const Request& req) const {
  if ((req.method != "GET" && req.method != "HEAD") || excluded(req.path)) return not_found();
  const auto key = static_file_key(req.path);
  if (!key) return not_found();
  const File* file = find(*key);
  if (!file && !has_extension(*key) && accepts_html(req)) file = find("index.html");
  if (!file) return not_found();

  Response r;
  r.content_type = std::string(file->content_type);
  r.header("ETag", file->etag);
  r.header("Cache-Control", file->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (etag_matches(req.header("if-none-match"), file->etag)) {
    r.status = 304;
    return r;
  }
  r.body = file->body;
  return r;
}

}  // namespace parley::http
