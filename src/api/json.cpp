#include "api/json.hpp"

#include "core/clock.hpp"
#include "core/json.hpp"
#include "obs/log.hpp"

namespace parley::api {

core::Result<rapidjson::Document> parse_body(const http::Request& req, std::size_t max_depth) {
  rapidjson::Document doc;
  if (req.body.empty()) {
    doc.SetObject();
    return doc;
  }
  std::string_view type = req.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lowered(type);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered != "application/json") {
    return core::fail(core::ErrorCode::unsupported_media_type,
                      "Content-Type must be application/json");
  }
  if (const auto err = core::parse_json(doc, req.body, max_depth);
      err != core::JsonParseError::none) {
    return core::fail(core::ErrorCode::invalid_json, err == core::JsonParseError::too_deep
                                                         ? "Request body is nested too deeply"
                                                         : "Request body is not valid JSON");
  }
  if (!doc.IsObject()) {
    core::Error e =
        core::Error::make(core::ErrorCode::validation_failed, "Request body must be a JSON object");
    e.fields.push_back({"body", "must be a JSON object"});
    return core::fail(std::move(e));
  }
  return doc;
}

namespace {

// Like JSON.parse, the last of duplicate keys wins.
rapidjson::Value::ConstMemberIterator last_member(const rapidjson::Value& obj, const char* field) {
  auto it = obj.MemberEnd();
  for (auto m = obj.MemberBegin(); m != obj.MemberEnd(); ++m) {
    if (std::string_view(m->name.GetString(), m->name.GetStringLength()) == field) it = m;
  }
  return it;
}

}  // namespace

std::optional<std::vector<std::string>> string_array_member(const rapidjson::Value& obj,
                                                            const char* field, core::Error& err) {
  const auto it = last_member(obj, field);
  if (it == obj.MemberEnd() || it->value.IsNull()) return std::nullopt;
  bool strings = it->value.IsArray();
  if (strings) {
    for (const auto& v : it->value.GetArray()) strings = strings && v.IsString();
  }
  if (!strings) {
    err.add_field(field, "must be an array of user ids");
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(it->value.Size());
  for (const auto& v : it->value.GetArray()) out.emplace_back(v.GetString(), v.GetStringLength());
  return out;
}

std::optional<std::string> string_member(const rapidjson::Value& obj, const char* field,
                                         core::Error& err) {
  const auto it = last_member(obj, field);
  if (it == obj.MemberEnd() || it->value.IsNull()) return std::nullopt;
  if (!it->value.IsString()) {
    err.code = core::ErrorCode::validation_failed;
    err.message = "Validation failed";
    err.fields.push_back({field, "must be a string"});
    return std::nullopt;
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

http::Response failure(const core::Error& e, std::string_view what) {
  if (e.code == core::ErrorCode::internal) obs::log(obs::Level::error, "{}: {}", what, e.detail);
  return http::Response::error(e);
}

void write_string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_optional(JsonWriter& w, const std::optional<std::string>& s) {
  if (s)
    write_string(w, *s);
  else
    w.Null();
}

void write_optional_time(JsonWriter& w, const std::optional<core::EpochMs>& ms) {
  if (ms)
    write_string(w, core::to_iso8601(*ms));
  else
    w.Null();
}

void write_read_members(JsonWriter& w, const store::ReadOutcome& r) {
  w.Key("conversationId");
  if (r.conversation_id.empty())
    w.Null();
  else
    write_string(w, r.conversation_id);
  w.Key("upTo");
  write_optional(w, r.up_to_id);
  w.Key("readAt");
  write_string(w, core::to_iso8601(r.read_at));
  w.Key("count");
  w.Int64(r.count);
}

void write_user(JsonWriter& w, const store::User& u, std::optional<bool> online) {
  w.StartObject();
  w.Key("_id");
  write_string(w, u.id);
  w.Key("name");
  write_string(w, u.name);
  w.Key("email");
  write_string(w, u.email);
  w.Key("avatar");
  write_optional(w, u.avatar);
  w.Key("createdAt");
  write_string(w, core::to_iso8601(u.created_at));
  w.Key("lastSeen");
  write_optional_time(w, u.last_seen);
  if (online) {
    w.Key("online");
    w.Bool(*online);
  }
  w.EndObject();
}

std::string user_json(const store::User& u) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_user(w, u);
  return take(buf);
}

void write_message(JsonWriter& w, const store::Message& m) {
  w.StartObject();
  w.Key("_id");
  write_string(w, m.id);
  w.Key("conversationId");
  write_string(w, m.conversation_id);
  w.Key("seq");
  w.Int64(m.seq);
  w.Key("from");
  write_string(w, m.from);
  w.Key("to");
  if (m.in_group)
    w.Null();
  else
    write_string(w, m.to);
  w.Key("text");
  write_string(w, m.text);
  w.Key("createdAt");
  write_string(w, core::to_iso8601(m.created_at));
  w.Key("delivered");
  w.Bool(m.delivered_at.has_value());
  w.Key("deliveredAt");
  write_optional_time(w, m.delivered_at);
  w.Key("read");
  w.Bool(m.read_at.has_value());
  w.Key("readAt");
  write_optional_time(w, m.read_at);
  if (m.in_group) {
    w.Key("deliveredCount");
    w.Int64(m.delivered_count);
    w.Key("readCount");
    w.Int64(m.read_count);
  }
  if (m.temp_id) {
    w.Key("tempId");
    write_string(w, *m.temp_id);
  }
  w.EndObject();
}

std::string message_json(const store::Message& m) {
  // Twice per message (the send ack, message:received): the buffer and the
  // writer's stack are the thread's, reused, so the only allocation is the
  // result.
  thread_local rapidjson::StringBuffer buf;
  thread_local JsonWriter w;
  buf.Clear();
  w.Reset(buf);
  write_message(w, m);
  return take(buf);
}

void write_conversation(JsonWriter& w, const store::ConversationSummary& c,
                        std::optional<std::int64_t> unread_count) {
  const bool group = c.type == store::ConversationType::group;
  w.StartObject();
  w.Key("_id");
  write_string(w, c.id);
  w.Key("type");
  w.String(group ? "group" : "direct");
  if (group) {
    w.Key("name");
    write_string(w, c.name);
    w.Key("ownerId");
    if (c.owner_id.empty())
      w.Null();  // the last member left
    else
      write_string(w, c.owner_id);
  }
  w.Key("participants");
  w.StartArray();
  for (const auto& p : c.participants) write_string(w, p);
  w.EndArray();
  if (!group) {
    w.Key("peer");
    write_user(w, c.peer);
  }
  w.Key("lastMessage");
  if (c.last_message)
    write_message(w, *c.last_message);
  else
    w.Null();
  w.Key("unreadCount");
  w.Int64(unread_count.value_or(c.unread_count));
  if (group) {
    w.Key("createdAt");
    write_string(w, core::to_iso8601(c.created_at));
  }
  w.Key("updatedAt");
  write_string(w, core::to_iso8601(c.updated_at));
  w.EndObject();
}

std::string conversation_json(const store::ConversationSummary& c,
                              std::optional<std::int64_t> unread_count) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_conversation(w, c, unread_count);
  return take(buf);
}

}  // namespace parley::api
