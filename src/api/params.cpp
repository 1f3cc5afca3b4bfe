#include "api/params.hpp"

#include <charconv>
#include <string>

namespace parley::api {

bool read_int_param(const http::Request& req, const char* name, long long min, long long max,
                    long long& out, core::Error& err, const char* problem) {
  std::string raw;
  if (!req.query_param(name, raw)) return true;
  long long v = 0;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (raw.empty() || ec != std::errc{} || ptr != raw.data() + raw.size() || v < min || v > max) {
    err.code = core::ErrorCode::validation_failed;
    err.message = "Validation failed";
    err.fields.push_back({name, problem});
    return false;
  }
  out = v;
  return true;
}

}  // namespace parley::api
