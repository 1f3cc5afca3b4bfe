// Wire JSON for the API layer: parsing request bodies with the contract's
// errors, and writing the contract's objects. RapidJSON throughout; output
// is built once into a string and never re-serialised.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/error.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace parley::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The request body as a JSON object. An empty body is an empty object; a
// non-empty body must be application/json (415) and valid UTF-8 JSON (400
// invalid_json, also when nested deeper than `max_depth`) holding an object
// (400 validation_failed).
core::Result<rapidjson::Document> parse_body(const http::Request& req, std::size_t max_depth);

// A member as a string: nullopt when absent or null; a validation error on
// `field` when present with another type (appended to `err`).
std::optional<std::string> string_member(const rapidjson::Value& obj, const char* field,
                                         core::Error& err);

// A member as an array of strings: nullopt when absent or null; a
// validation error on `field` when present with another type.
std::optional<std::vector<std::string>> string_array_member(const rapidjson::Value& obj,
                                                            const char* field, core::Error& err);

void write_string(JsonWriter& w, std::string_view s);
// A string, or null.
void write_optional(JsonWriter& w, const std::optional<std::string>& s);
// An ISO 8601 timestamp, or null.
void write_optional_time(JsonWriter& w, const std::optional<core::EpochMs>& ms);
// The members conversationId, upTo, readAt, count of a read answer (inside
// an object the caller opened).
void write_read_members(JsonWriter& w, const store::ReadOutcome& r);
void write_user(JsonWriter& w, const store::User& u, std::optional<bool> online = std::nullopt);
std::string user_json(const store::User& u);
void write_message(JsonWriter& w, const store::Message& m);
std::string message_json(const store::Message& m);
// A conversation; `unread_count` in place of the summary's (a group as
// another member sees it).
void write_conversation(JsonWriter& w, const store::ConversationSummary& c,
                        std::optional<std::int64_t> unread_count = std::nullopt);
std::string conversation_json(const store::ConversationSummary& c,
                              std::optional<std::int64_t> unread_count = std::nullopt);

// The contract's error response for `e`; an internal error's detail is
// logged (with `what`), never sent.
http::Response failure(const core::Error& e, std::string_view what);

inline std::string take(rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace parley::api
