#include "http/message.hpp"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace parley::http {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool url_decode(std::string_view in, std::string& out, bool form) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && form) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

bool Request::has_header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return true;
  }
  return false;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

bool Request::query_param(std::string_view name, std::string& value) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    std::string key;
    if (url_decode(pair.substr(0, eq), key, true) && key == name) {
      const std::string_view raw =
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      if (!url_decode(raw, value, true)) value.assign(raw);
      return true;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return false;
}

std::string cookie_value(std::string_view cookie_header, std::string_view name) {
  std::string_view rest = cookie_header;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string_view item = trim_ows(rest.substr(0, semi));
    const auto eq = item.find('=');
    if (eq != std::string_view::npos && trim_ows(item.substr(0, eq)) == name) {
      std::string_view value = trim_ows(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      std::string out;
      if (!url_decode(value, out, false)) out.assign(value);
      return out;
    }
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return {};
}

std::string Request::cookie(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k != "cookie") continue;
    if (auto value = cookie_value(v, name); !value.empty()) return value;
  }
  return {};
}

std::string presented_token(std::string_view authorization, std::string_view cookie_header,
                            std::string_view cookie_name) {
  const std::string_view auth = trim_ows(authorization);
  const auto space = auth.find_first_of(" \t");
  const std::string_view scheme = auth.substr(0, space);
  constexpr std::string_view kBearer = "bearer";
  const bool bearer = scheme.size() == kBearer.size() &&
                      std::equal(scheme.begin(), scheme.end(), kBearer.begin(), [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) == b;
                      });
  if (bearer) {
    const std::string_view token =
        space == std::string_view::npos ? std::string_view{} : trim_ows(auth.substr(space + 1));
    return token.empty() ? std::string(kBadCredential) : std::string(token);
  }
  return cookie_value(cookie_header, cookie_name);
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(const core::Error& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const auto code = core::error_code_name(e.code);
  w.StartObject();
  w.Key("error");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(e.message.data(), static_cast<rapidjson::SizeType>(e.message.size()));
  if (!e.fields.empty()) {
    w.Key("fields");
    w.StartObject();
    for (const auto& f : e.fields) {
      w.Key(f.field.data(), static_cast<rapidjson::SizeType>(f.field.size()));
      w.String(f.problem.data(), static_cast<rapidjson::SizeType>(f.problem.size()));
    }
    w.EndObject();
  }
  w.EndObject();
  Response r = json(core::http_status(e.code), std::string(buf.GetString(), buf.GetSize()));
  if (e.code == core::ErrorCode::rate_limited) {
    r.header("Retry-After", std::to_string(std::max(1, e.retry_after_seconds)));
  }
  return r;
}

}  // namespace parley::http
