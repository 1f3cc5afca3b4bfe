#include "chat/event_codec.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <vector>

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
  FieldWriter& flag(bool v) { return str(v ? "1" : "0"); }
  // A list: its size, then each item.
  FieldWriter& list(const std::vector<std::string>& items) {
    num(static_cast<std::int64_t>(items.size()));
    for (const auto& item : items) str(item);
    return *this;
  }
  FieldWriter& message(const store::Message& m) {
    return str(m.id)
        .str(m.conversation_id)
        .num(m.seq)
        .str(m.from)
        .str(m.to)
        .str(m.text)
        .opt(m.temp_id)
        .num(m.created_at)
        .opt(m.delivered_at)
        .opt(m.read_at)
        .flag(m.in_group)
        .num(m.delivered_count)
        .num(m.read_count);
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
  bool flag() { return present(); }
  // A count of items that follow, each at least two bytes ("0:"): bounded
  // by what is left of the payload before anything is reserved.
  std::size_t count() {
    const std::int64_t n = num();
    if (n < 0 || static_cast<std::size_t>(n) > in_.size() / 2) {
      fail();
      return 0;
    }
    return static_cast<std::size_t>(n);
  }
  std::vector<std::string> list() {
    std::vector<std::string> out;
    const std::size_t n = count();
    out.reserve(n);
    for (std::size_t i = 0; i < n && ok_; ++i) out.push_back(str());
    return out;
  }
  store::Message message() {
    store::Message m;
    m.id = str();
    m.conversation_id = str();
    m.seq = num();
    m.from = str();
    m.to = str();
    m.text = str();
    m.temp_id = opt_str();
    m.created_at = num();
    m.delivered_at = opt_num();
    m.read_at = opt_num();
    m.in_group = flag();
    m.delivered_count = num();
    m.read_count = num();
    return m;
  }
  // Every field read and nothing left over.
  bool done() const { return ok_ && in_.empty(); }
  bool failed() const { return !ok_; }

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
  return encode_committed(c.message, c.members, c.origin);
}

std::string encode_committed(const store::Message& m, const store::MemberList& members,
                             std::string_view origin) {
  const std::size_t n = members ? members->size() : 0;
  FieldWriter w(EventKind::committed, m.text.size() + (6 + n) * (m.id.size() + 4));
  w.str(origin).message(m).flag(members != nullptr);
  if (members) w.list(*members);
  return w.take();
}

std::string encode(const std::vector<DeliveredReceipt>& receipts) {
  constexpr std::size_t kReceiptBytes = 4 * 28 + 24;  // four ids, a time, a flag
  FieldWriter w(EventKind::delivered, receipts.size() * kReceiptBytes);
  w.num(static_cast<std::int64_t>(receipts.size()));
  for (const auto& r : receipts) {
    w.str(r.message_id)
        .str(r.conversation_id)
        .str(r.sender_id)
        .num(r.at)
        .str(r.user_id)
        .flag(r.in_group);
  }
  return w.take();
}

std::string encode(const ReadEvent& e) {
  const store::ReadOutcome& o = e.outcome;
  return FieldWriter(EventKind::read, (4 + o.others.size()) * (e.reader_id.size() + 4))
      .str(o.conversation_id)
      .list(o.others)
      .opt(o.up_to_id)
      .num(o.up_to_seq)
      .num(o.read_at)
      .num(o.count)
      .str(e.reader_id)
      .take();
}

std::string encode(const store::GroupUpdate& u) {
  const store::ConversationSummary& c = u.conversation;
  FieldWriter w(EventKind::conversation,
                c.name.size() + 2 * (c.participants.size() + 4) * (c.id.size() + 8));
  w.str(c.id)
      .str(c.name)
      .str(c.owner_id)
      .list(c.participants)
      .num(c.unread_count)
      .num(c.created_at)
      .num(c.updated_at)
      .flag(c.last_message.has_value());
  if (c.last_message) w.message(*c.last_message);
  w.num(static_cast<std::int64_t>(u.audience.size()));
  for (const auto& [user, unread] : u.audience) w.str(user).num(unread);
  return w.opt(u.removed).flag(u.changed).take();
}

std::optional<EventKind> event_kind(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  switch (payload[0]) {
    case 'm': return EventKind::committed;
    case 'd': return EventKind::delivered;
    case 'r': return EventKind::read;
    case 'c': return EventKind::conversation;
    default: return std::nullopt;
  }
}

std::optional<Committed> decode_committed(std::string_view payload) {
  FieldReader r(payload, EventKind::committed);
  Committed c;
  c.origin = r.str();
  c.message = r.message();
  if (r.flag()) c.members = std::make_shared<const std::vector<std::string>>(r.list());
  if (!r.done()) return std::nullopt;
  return c;
}

std::optional<std::vector<DeliveredReceipt>> decode_delivered(std::string_view payload) {
  FieldReader r(payload, EventKind::delivered);
  std::vector<DeliveredReceipt> out;
  const std::size_t n = r.count();
  out.reserve(n);
  for (std::size_t i = 0; i < n && !r.failed(); ++i) {
    DeliveredReceipt& d = out.emplace_back();
    d.message_id = r.str();
    d.conversation_id = r.str();
    d.sender_id = r.str();
    d.at = r.num();
    d.user_id = r.str();
    d.in_group = r.flag();
  }
  if (!r.done()) return std::nullopt;
  return out;
}

std::optional<ReadEvent> decode_read(std::string_view payload) {
  FieldReader r(payload, EventKind::read);
  ReadEvent e;
  store::ReadOutcome& o = e.outcome;
  o.conversation_id = r.str();
  o.others = r.list();
  o.up_to_id = r.opt_str();
  o.up_to_seq = r.num();
  o.read_at = r.num();
  o.count = r.num();
  e.reader_id = r.str();
  if (!r.done()) return std::nullopt;
  return e;
}

std::optional<store::GroupUpdate> decode_group_update(std::string_view payload) {
  FieldReader r(payload, EventKind::conversation);
  store::GroupUpdate u;
  store::ConversationSummary& c = u.conversation;
  c.type = store::ConversationType::group;
  c.id = r.str();
  c.name = r.str();
  c.owner_id = r.str();
  c.participants = r.list();
  c.unread_count = r.num();
  c.created_at = r.num();
  c.updated_at = r.num();
  if (r.flag()) c.last_message = r.message();
  const std::size_t n = r.count();
  u.audience.reserve(n);
  for (std::size_t i = 0; i < n && !r.failed(); ++i) {
    std::string user = r.str();
    u.audience.emplace_back(std::move(user), r.num());
  }
  u.removed = r.opt_str();
  u.changed = r.flag();
  if (!r.done()) return std::nullopt;
  return u;
}

}  // namespace parley::chat
