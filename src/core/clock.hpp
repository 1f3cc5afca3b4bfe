// Wall-clock time as milliseconds since the Unix epoch, and the contract's
// ISO 8601 form (`2026-11-23T10:00:00.000Z`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::core {

using EpochMs = std::int64_t;

EpochMs now_ms();
std::string to_iso8601(EpochMs ms);
// Parses exactly the form to_iso8601 writes; nullopt otherwise.
std::optional<EpochMs> parse_iso8601(std::string_view text);

}  // namespace parley::core
