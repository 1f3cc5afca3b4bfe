#include "http/router.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace parley::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end;
  }
  return parts;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  Route r;
  r.method = std::move(method);
  for (auto seg : split_path(pattern)) r.segments.emplace_back(seg);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::match_segments(const Route& r, const std::vector<std::string_view>& parts,
                            std::vector<std::pair<std::string, std::string>>* params) {
  if (r.segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = r.segments[i];
    if (!seg.empty() && seg[0] == ':') {
      if (params) {
        std::string decoded;
        if (!url_decode(parts[i], decoded, false)) decoded.assign(parts[i]);
        params->emplace_back(seg.substr(1), std::move(decoded));
      }
    } else if (!iequals(seg, parts[i])) {
      return false;
    }
  }
  return true;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  const auto parts = split_path(path);
  const std::string_view want = method == "HEAD" ? std::string_view("GET") : method;
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    if (!match_segments(r, parts, nullptr)) continue;
    if (r.method == want || r.method == "*") {
      m.kind = Match::Kind::found;
      m.handler = &r.handler;
      m.label = r.pattern;
      match_segments(r, parts, &m.params);
      return m;
    }
    if (m.label.empty()) m.label = r.pattern;
    allowed.push_back(r.method);
    if (r.method == "GET") allowed.emplace_back("HEAD");
  }
  if (allowed.empty() && fallback_) {
    m.kind = Match::Kind::found;
    m.handler = &fallback_;
    m.label = kFallbackLabel;
    return m;
  }
  if (!allowed.empty()) {
    m.kind = Match::Kind::method_not_allowed;
    for (const auto& a : allowed) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += a;
    }
  }
  return m;
}

void Router::set_fallback(Handler handler) {
  fallback_ = std::move(handler);
}

std::vector<std::string> Router::patterns() const {
  std::vector<std::string> out;
  if (fallback_) out.emplace_back(kFallbackLabel);
  for (const auto& r : routes_) {
    if (std::find(out.begin(), out.end(), r.pattern) == out.end()) out.push_back(r.pattern);
  }
  return out;
}

}  // namespace parley::http
