#include "core/error.hpp"

namespace parley::core {

namespace {
struct Row {
  std::string_view name;
  int status;
};

Row row(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_json: return {"invalid_json", 400};
    case ErrorCode::bad_request: return {"bad_request", 400};
    case ErrorCode::unsupported_media_type: return {"unsupported_media_type", 415};
    case ErrorCode::validation_failed: return {"validation_failed", 400};
    case ErrorCode::invalid_credentials: return {"invalid_credentials", 401};
    case ErrorCode::unauthorized: return {"unauthorized", 401};
    case ErrorCode::forbidden: return {"forbidden", 403};
    case ErrorCode::not_found: return {"not_found", 404};
    case ErrorCode::method_not_allowed: return {"method_not_allowed", 405};
    case ErrorCode::conflict: return {"conflict", 409};
    case ErrorCode::payload_too_large: return {"payload_too_large", 413};
    case ErrorCode::rate_limited: return {"rate_limited", 429};
    case ErrorCode::unavailable: return {"unavailable", 503};
    case ErrorCode::internal: return {"internal", 500};
  }
  return {"internal", 500};
}
}  // namespace

std::string_view error_code_name(ErrorCode code) {
  return row(code).name;
}
int http_status(ErrorCode code) {
  return row(code).status;
}

}  // namespace parley::core
