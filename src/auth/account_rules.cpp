#include "auth/account_rules.hpp"

#include <algorithm>

#include "core/utf8.hpp"

namespace parley::auth {

using Fail = tl::unexpected<std::string>;

FieldResult normalize_name(std::string_view raw) {
  const auto len = core::utf8_length(raw);
  if (!len) return Fail("must be valid UTF-8");
  const std::string_view trimmed = core::trim_unicode(raw);
  const auto n = core::utf8_length(trimmed).value_or(0);
  if (n < 1 || n > 64) return Fail("must be 1-64 characters");
  if (std::any_of(trimmed.begin(), trimmed.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return Fail("must not contain control characters");
  }
  return std::string(trimmed);
}

FieldResult normalize_email(std::string_view raw) {
  if (!core::utf8_length(raw)) return Fail("must be a valid email address");
  const std::string email = core::ascii_lower(core::trim_unicode(raw));
  const auto at = email.find('@');
  if (email.empty() || email.size() > 254 || at == std::string::npos || at == 0 || at > 64 ||
      email.find('@', at + 1) != std::string::npos) {
    return Fail("must be a valid email address");
  }
  const std::string_view local(email.data(), at);
  const std::string_view domain(email.data() + at + 1, email.size() - at - 1);
  auto bad_char = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
           c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"';
  };
  if (std::any_of(email.begin(), email.end(), bad_char))
    return Fail("must be a valid email address");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return Fail("must be a valid email address");
  }
  // Domain: dot-separated labels, at least two, none empty, no leading or
  // trailing hyphen, a top-level label of 2+ characters.
  if (domain.empty() || domain.find('.') == std::string_view::npos) {
    return Fail("must be a valid email address");
  }
  std::size_t start = 0;
  std::string_view last;
  while (start <= domain.size()) {
    auto dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return Fail("must be a valid email address");
    }
    last = label;
    start = dot + 1;
  }
  if (last.size() < 2) return Fail("must be a valid email address");
  return email;
}

FieldResult check_password(std::string_view raw) {
  if (raw.find('\0') != std::string_view::npos) return Fail("must not contain NUL characters");
  if (raw.size() < 8 || raw.size() > 72) return Fail("must be 8-72 bytes");
  return std::string(raw);
}

}  // namespace parley::auth
