#include "core/json.hpp"

#include <cmath>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace parley::core {

namespace {

// RapidJSON 1.1.0 validates the input's bytes and refuses a lone high
// surrogate escape, but decodes a lone low one (\uDC00-\uDFFF) into bytes
// that are not UTF-8 (ED B0-BF xx). In a validated document ED is followed
// by 80-9F only, so this finds exactly those.
bool has_encoded_surrogate(std::string_view s) {
  for (auto i = s.find('\xED'); i != std::string_view::npos; i = s.find('\xED', i + 1)) {
    if (i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
  }
  return false;
}

// A SAX handler that forwards to the document and refuses to open a
// container past the depth limit, which ends the parse at once. It also
// refuses what RapidJSON 1.1.0 lets through: a string holding a lone low
// surrogate (see above; a lone high one is already refused), so every
// string in the document is UTF-8, and a number too big for a double.
class DepthLimitedHandler {
 public:
  DepthLimitedHandler(rapidjson::Document& doc, std::size_t max_depth)
      : doc_(doc), max_depth_(max_depth) {}

  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  // RapidJSON 1.1.0 refuses an exponent over 308 but not a number that
  // overflows by its digits (a 51-digit integer part with e290); upstream
  // later refuses both as too big. An infinity could not be written back.
  bool Double(double d) { return std::isfinite(d) && doc_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return doc_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    return !has_encoded_surrogate({s, n}) && doc_.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    return !has_encoded_surrogate({s, n}) && doc_.Key(s, n, copy);
  }
  bool StartObject() { return open() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndObject(n);
  }
  bool StartArray() { return open() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndArray(n);
  }

 private:
  bool open() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  rapidjson::Document& doc_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

JsonParseError parse_json(rapidjson::Document& doc, std::string_view text, std::size_t max_depth) {
  JsonParseError result = JsonParseError::none;
  auto generate = [&](rapidjson::Document& target) {
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    DepthLimitedHandler handler(target, max_depth);
    // The reader's stack is the thread's, reused from parse to parse.
    thread_local rapidjson::Reader reader;
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                                rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseStopWhenDoneFlag;
    const rapidjson::ParseResult ok = reader.Parse<kFlags>(in, handler);
    if (ok) {
      // Like JSON.parse: only whitespace may follow the value.
      while (in.Peek() == ' ' || in.Peek() == '\n' || in.Peek() == '\r' || in.Peek() == '\t')
        in.Take();
      if (in.Peek() != '\0' || in.Tell() != text.size()) {
        result = JsonParseError::syntax;
        return false;
      }
      return true;
    }
    result = handler.too_deep() ? JsonParseError::too_deep : JsonParseError::syntax;
    return false;
  };
  doc.SetNull();
  doc.Populate(generate);
  if (result != JsonParseError::none) doc.SetNull();
  return result;
}

std::string_view describe(JsonParseError e) {
  switch (e) {
    case JsonParseError::none: return "ok";
    case JsonParseError::syntax: return "not valid JSON";
    case JsonParseError::too_deep: return "nested too deeply";
  }
  return "not valid JSON";
}

}  // namespace parley::core
