// libFuzzer target: core::parse_json, the bounded parser every JSON byte
// from a peer goes through (request bodies, Socket.IO data, token parts).
// On any input it must not crash, and its depth limit must hold: a document
// it accepts is nested no deeper than the limit (so nothing that later walks
// it recursively can go deeper either), and written out and parsed again it
// gives the same document. It runs with the server's default limit and with
// a token's small one, and the two must agree.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json.hpp"
#include "fuzz_support.hpp"

namespace {

using parley::core::JsonParseError;
using parley::fuzz::check;

constexpr std::size_t kDeep = parley::core::kDefaultJsonMaxDepth;
constexpr std::size_t kShallow = 4;  // as for a token's header and claims

// Checks what holds for any accepted document and returns whether it was.
bool accepted(JsonParseError e, const rapidjson::Document& doc, std::size_t max_depth) {
  if (e != JsonParseError::none) {
    check(doc.IsNull(), "a rejected parse leaves the document null");
    return false;
  }
  check(parley::fuzz::json_depth(doc) <= max_depth, "document nested within the limit");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  check(doc.Accept(w), "accepted document serialises");
  rapidjson::Document again;
  const std::string_view text(buf.GetString(), buf.GetSize());
  check(parley::core::parse_json(again, text, max_depth) == JsonParseError::none,
        "serialised document parses again");
  check(parley::fuzz::json_equal(again, doc), "serialise and parse gives an equal document");
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  rapidjson::Document deep, shallow;
  const JsonParseError deep_result = parley::core::parse_json(deep, input, kDeep);
  const JsonParseError shallow_result = parley::core::parse_json(shallow, input, kShallow);
  const bool deep_ok = accepted(deep_result, deep, kDeep);
  const bool shallow_ok = accepted(shallow_result, shallow, kShallow);
  parley::fuzz::expect_accepted(deep_ok, "core::parse_json");
  // The shallow parse stops at the first container past its limit, before
  // the deep one could: so the limits change the verdict only that way.
  if (shallow_ok) {
    check(deep_ok && parley::fuzz::json_equal(deep, shallow),
          "a shallow limit accepts only what a deep one does, identically");
  }
  if (deep_result == JsonParseError::too_deep) {
    check(shallow_result == JsonParseError::too_deep, "too deep for 64 is too deep for 4");
  }
  if (shallow_result == JsonParseError::syntax) {
    check(deep_result == JsonParseError::syntax, "a syntax error before depth 4 is one for 64");
  }
  if (deep_ok && !shallow_ok) {
    check(shallow_result == JsonParseError::too_deep && parley::fuzz::json_depth(deep) > kShallow,
          "a deep document fails the shallow limit only for its depth");
  }
  return 0;
}
