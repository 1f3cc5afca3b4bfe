#include "chat/event_codec.hpp"

#include <array>
#include <charconv>
#include <cstdint>

#include "chat/delivered_cursors.hpp"
#include "chat/delivery.hpp"

namespace parley::chat {
namespace {

class FieldWriter {
 public:
  // `expected`: about the payload's size, so that it is allocated once.
  FieldWriter(EventKind kind, std::size_t expected) {
    out_.reserve(expected + 64);
    out_.push_back(static_cast<char>(kind));
  }
  FieldWriter& str(std::string_view v) {
    append_number(v.size());
    out_.push_back(':');
    out_.append(v);
    return *this;
  }
  FieldWriter& num(std::int64_t v) {
    std::array<char, 24> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), v).ptr;
    return str(std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data())));
  }
  // Optional values: a presence field, then the value when present.
  FieldWriter& opt(const std::optional<std::string>& v) {
    str(v ? "1" : "0");
    return v ? str(*v) : *this;
  }
  FieldWriter& opt(const std::optional<std::int64_t>& v) {
    str(v ? "1" : "0");
    return v ? num(*v) : *this;
  }
  std::string take() { return std::move(out_); }

 private:
  void append_number(std::size_t v) {
    std::array<char, 24> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), v).ptr;
    out_.append(digits.data(), end);
  }
  std::string out_;
};

class FieldReader {
 public:
  FieldReader(std::string_view payload, EventKind kind) : in_(payload) {
    ok_ = !in_.empty() && in_[0] == static_cast<char>(kind);
    if (ok_) in_.remove_prefix(1);
  }
  std::string_view view() {
    if (!ok_) return {};
    std::size_t len = 0;
    const char* end = in_.data() + in_.size();
    auto [p, ec] = std::from_chars(in_.data(), end, len);
    if (ec != std::errc{} || p == end || *p != ':') return fail();
    const auto header = static_cast<std::size_t>(p + 1 - in_.data());
    if (len > in_.size() - header) return fail();
    std::string_view v = in_.substr(header, len);
    in_.remove_prefix(header + len);
    return v;
  }
  std::string str() { return std::string(view()); }
  std::int64_t num() {
    const std::string_view v = view();
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc{} || p != v.data() + v.size()) fail();
    return out;
  }
  bool present() {
    const std::string_view v = view();
    if (v != "0" && v != "1") fail();
    return v == "1";
  }
  std::optional<std::string> opt_str() {
    if (!present()) return std::nullopt;
    return str();
  }
  std::optional<std::int64_t> opt_num() {
    if (!present()) return std::nullopt;
    return num();
  }
  // Every field read and nothing left over.
  bool done() const { return ok_ && in_.empty(); }

 private:
  std::string_view fail() {
    ok_ = false;
    return {};
  }
  std::string_view in_;
  bool ok_ = false;
};

}  // namespace

std::string encode(const Committed& c) {
  return encode_committed(c.message, c.origin);
}

std::string encode_committed(const store::Message& m, std::string_view origin) {
  return FieldWriter(EventKind::committed, m.text.size() + 6 * m.id.size())
      .str(origin)
      .str(m.id)
      .str(m.conversation_id)
      .num(m.seq)
      .str(m.from)
      .str(m.to)
      .str(m.text)
      .opt(m.temp_id)
      .num(m.created_at)
      .opt(m.delivered_at)
      .opt(m.read_at)
      .take();
}

std::string encode(const DeliveredReceipt& r) {
  return FieldWriter(EventKind::delivered, 3 * r.message_id.size())
      .str(r.message_id)
      .str(r.conversation_id)
      .str(r.sender_id)
      .num(r.at)
      .take();
}

std::string encode(const ReadEvent& e) {
  const store::ReadOutcome& o = e.outcome;
  return FieldWriter(EventKind::read, 4 * e.reader_id.size())
      .str(o.conversation_id)
      .str(o.peer_id)
      .opt(o.up_to_id)
      .num(o.up_to_seq)
      .num(o.read_at)
      .num(o.count)
      .str(e.reader_id)
      .take();
}

std::optional<EventKind> event_kind(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  switch (payload[0]) {
    case 'm': return EventKind::committed;
    case 'd': return EventKind::delivered;
    case 'r': return EventKind::read;
    default: return std::nullopt;
  }
}

std::optional<Committed> decode_committed(std::string_view payload) {
  FieldReader r(payload, EventKind::committed);
  Committed c;
  store::Message& m = c.message;
  c.origin = r.str();
  m.id = r.str();
  m.conversation_id = r.str();
  m.seq = r.num();
  m.from = r.str();
  m.to = r.str();
  m.text = r.str();
  m.temp_id = r.opt_str();
  m.created_at = r.num();
  m.delivered_at = r.opt_num();
  m.read_at = r.opt_num();
  if (!r.done()) return std::nullopt;
  return c;
}

std::optional<DeliveredReceipt> decode_delivered(std::string_view payload) {
  FieldReader r(payload, EventKind::delivered);
  DeliveredReceipt d;
  d.message_id = r.str();
  d.conversation_id = r.str();
  d.sender_id = r.str();
  d.at = r.num();
  if (!r.done()) return std::nullopt;
  return d;
}

std::optional<ReadEvent> decode_read(std::string_view payload) {
  FieldReader r(payload, EventKind::read);
  ReadEvent e;
  store::ReadOutcome& o = e.outcome;
  o.conversation_id = r.str();
  o.peer_id = r.str();
  o.up_to_id = r.opt_str();
  o.up_to_seq = r.num();
  o.read_at = r.num();
  o.count = r.num();
  e.reader_id = r.str();
  if (!r.done()) return std::nullopt;
  return e;
}

}  // namespace parley::chat
