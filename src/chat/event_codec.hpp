// parley::chat event codec: the domain's real-time events as broker
// payloads (cluster::Broker carries strings between nodes).
//
// Each payload is a kind letter then length-prefixed fields ("<len>:<bytes>"),
// so any text (newlines, NULs) passes unchanged and decoding never scans for
// delimiters inside a field. Decoding is bounded by the payload: a truncated
// or malformed payload decodes to nullopt, never past its end.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace parley::chat {

struct Committed;
struct DeliveredReceipt;  // chat/delivered_cursors.hpp

struct ReadEvent {
  store::ReadOutcome outcome;
  std::string reader_id;
};

std::string encode(const Committed& committed);
// The same, from its parts (no copy of the message).
std::string encode_committed(const store::Message& message, const store::MemberList& members,
                             std::string_view origin);
// The receipts of one flush of delivered cursors, in one payload.
std::string encode(const std::vector<DeliveredReceipt>& receipts);
std::string encode(const ReadEvent& read);
std::string encode(const store::GroupUpdate& update);

enum class EventKind : char { committed = 'm', delivered = 'd', read = 'r', conversation = 'c' };
std::optional<EventKind> event_kind(std::string_view payload);

std::optional<Committed> decode_committed(std::string_view payload);
std::optional<std::vector<DeliveredReceipt>> decode_delivered(std::string_view payload);
std::optional<ReadEvent> decode_read(std::string_view payload);
std::optional<store::GroupUpdate> decode_group_update(std::string_view payload);

}  // namespace parley::chat
