// The contract's rules for account fields, as pure functions. Each returns
// the normalised value or a field problem (the text that goes into the
// validation error's `fields`).
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace parley::auth {

using FieldResult = tl::expected<std::string, std::string>;

// Trimmed, 1-64 code points, valid UTF-8.
FieldResult normalize_name(std::string_view raw);
// Trimmed, lower-cased, a plausible address (local@domain.tld), at most 254.
FieldResult normalize_email(std::string_view raw);
// 8-72 bytes, no NUL byte (bcrypt ignores bytes after 72 and stops at NUL,
// so either would silently weaken the password). Returned unchanged.
FieldResult check_password(std::string_view raw);

}  // namespace parley::auth
