// parley::core error values. Expected failures (validation, not found,
// conflict, ...) travel as values, never as exceptions. An Error keeps what
// the client may see (`message`, `fields`) apart from what is only logged
// (`detail`). One table (error.cpp) maps each code to the contract's error
// string and HTTP status.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace parley::core {

enum class ErrorCode {
  invalid_json,
  bad_request,  // malformed HTTP (framing, Host), answered by the HTTP layer
  unsupported_media_type,
  validation_failed,
  invalid_credentials,
  unauthorized,
  forbidden,
  not_found,
  method_not_allowed,
  conflict,
  payload_too_large,
  rate_limited,
  unavailable,
  internal,
};

struct FieldError {
  std::string field;
  std::string problem;
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;             // safe to show to the client
  std::vector<FieldError> fields;  // validation_failed only
  std::string detail;              // logged, never sent
  int retry_after_seconds = 0;     // rate_limited only

  static Error make(ErrorCode code, std::string message, std::string detail = {}) {
    Error e;
    e.code = code;
    e.message = std::move(message);
    e.detail = std::move(detail);
    return e;
  }
  static Error internal(std::string detail) {
    return make(ErrorCode::internal, "Internal server error", std::move(detail));
  }
  static Error validation(std::string field, std::string problem) {
    Error e = make(ErrorCode::validation_failed, "Validation failed");
    e.fields.push_back({std::move(field), std::move(problem)});
    return e;
  }
  // Makes this a validation error with `problem` on `field`, unless that
  // field has a problem already (the first one found is reported).
  void add_field(std::string field, std::string problem) {
    for (const auto& f : fields) {
      if (f.field == field) return;
    }
    code = ErrorCode::validation_failed;
    message = "Validation failed";
    fields.push_back({std::move(field), std::move(problem)});
  }
};

// The contract's wire string for a code ("validation_failed", ...).
std::string_view error_code_name(ErrorCode code);
// The HTTP status the contract gives a code.
int http_status(ErrorCode code);

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Error e) {
  return tl::unexpected<Error>(std::move(e));
}
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error::make(code, std::move(message)));
}

}  // namespace parley::core
