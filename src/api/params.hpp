// Query-string parameters of the REST routes, checked with the contract's
// validation errors.
#pragma once

#include "core/error.hpp"
#include "http/message.hpp"

namespace parley::api {

// Larger skips are no error: they just page past the end (JavaScript's
// safe-integer range is the contract's number range).
inline constexpr long long kMaxSkip = 1LL << 53;

// An integer query parameter in [min, max]. Absent: `out` keeps its value,
// true. Present but malformed or out of range: a field error on `err`
// (`problem` as its text), false.
bool read_int_param(const http::Request& req, const char* name, long long min, long long max,
                    long long& out, core::Error& err, const char* problem);

}  // namespace parley::api
