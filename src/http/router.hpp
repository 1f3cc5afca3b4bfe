// parley::http router: method + path pattern ("/api/messages/:id/read") to
// handler. Like Express's defaults, static segments match case-insensitively
// and a trailing slash is ignored; HEAD is served by GET routes. Built at
// start-up, then read-only (safe to match from any thread). Method "*"
// matches every method (protocols that answer wrong methods themselves).
// A fallback, when set, gets every request no route's path matches (the web
// client's files; it answers its own 404s).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace parley::http {

class Router {
 public:
  struct Match {
    enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
    const Handler* handler = nullptr;
    std::string label;  // the route's pattern, for metrics
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;  // for 405: "GET, HEAD" / "POST"
  };

  void add(std::string method, std::string pattern, Handler handler);
  Match match(std::string_view method, std::string_view path) const;
  // Start-up only. Matched with the label kFallbackLabel.
  void set_fallback(Handler handler);
  static constexpr std::string_view kFallbackLabel = "(static)";
  // Every pattern, for metrics registration.
  std::vector<std::string> patterns() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // ":name" for parameters
    Handler handler;
  };
  static bool match_segments(const Route& r, const std::vector<std::string_view>& parts,
                             std::vector<std::pair<std::string, std::string>>* params);
  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace parley::http
