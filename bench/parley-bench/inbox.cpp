#include "parley-bench/inbox.hpp"

#include <algorithm>

#include "parley-bench/sio_scan.hpp"

namespace parley::bench {

Inbox::Inbox(const std::vector<std::string>& sender_ids, std::optional<std::size_t> self)
    : self_(self), received_(sender_ids.size()) {
  senders_.reserve(sender_ids.size());
  for (std::size_t i = 0; i < sender_ids.size(); ++i) senders_.emplace_back(sender_ids[i], i);
  std::sort(senders_.begin(), senders_.end());
}

// Binary search: a group has hundreds of possible senders, and this runs
// once per delivery.
std::optional<std::size_t> Inbox::sender_index(std::string_view id) const {
  const auto it =
      std::lower_bound(senders_.begin(), senders_.end(), id,
                       [](const auto& s, std::string_view key) { return s.first < key; });
  if (it == senders_.end() || it->first != id) return std::nullopt;
  return it->second;
}

Inbox::Accepted Inbox::accept(std::string_view message) {
  std::string_view id;
  std::string_view temp_id;
  std::string_view from;
  const bool ok = for_each_member(message, [&](std::string_view key, std::string_view value) {
    if (key == "_id") {
      id = value;
    } else if (key == "from") {
      from = value;
    } else if (key == "tempId") {
      temp_id = value;
    }
    return true;
  });
  const auto dot = temp_id.find('.');
  if (!ok || dot == std::string_view::npos) return {};
  const auto seq = parse_u64(temp_id.substr(0, dot));
  const auto sent_ns = parse_u64(temp_id.substr(dot + 1));
  const auto sender = sender_index(from);
  if (!seq || !sent_ns || !sender || sender == self_) return {};
  // value_or: GCC 12 takes a plain dereference here for a maybe-uninitialized read.
  const std::uint64_t sent = sent_ns.value_or(0);
  switch (ids_.insert(id)) {
    case IdSet::Insert::malformed: return {};
    case IdSet::Insert::present: return {Verdict::duplicate_id, sent};
    case IdSet::Insert::added: break;
  }
  const bool first = received_[*sender].set(*seq);
  return {first ? Verdict::first : Verdict::seq_twice, sent};
}

}  // namespace parley::bench
