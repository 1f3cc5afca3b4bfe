// Bounded JSON parsing for every byte that comes from a peer (request
// bodies, Socket.IO payloads, token parts). RapidJSON's iterative parser
// never recurses, and a depth limit stops the parse at the first container
// nested deeper than allowed, so neither the parse nor any later walk of the
// document (serialisation, copies, placeholder checks) can recurse more than
// `max_depth` frames, whatever the input.
#pragma once

#include <cstddef>
#include <string_view>

#include <rapidjson/document.h>

namespace parley::core {

// The default of the JSON_MAX_DEPTH setting: the contract's deepest
// document (a Socket.IO event with its payload object) is three levels.
inline constexpr std::size_t kDefaultJsonMaxDepth = 64;

enum class JsonParseError {
  none,
  syntax,    // not JSON, or not UTF-8
  too_deep,  // a container nested deeper than max_depth
};

// Parses `text` (UTF-8 validated) into `doc`. On error `doc` is left null.
JsonParseError parse_json(rapidjson::Document& doc, std::string_view text, std::size_t max_depth);

// A short description for logs.
std::string_view describe(JsonParseError e);

}  // namespace parley::core
