// parley::chat delivered cursors: device acks of message:received merged
// into delivered-cursor advances.
//
// DESIGN
// - One advance per (conversation, recipient) per flush, however many acks
//   it carries: a burst of acks costs one cursor write per conversation,
//   never one per ack.
// - At most one flush is in flight. Acks that arrive meanwhile wait; when the
//   flush's last write finishes, what waits is flushed next. So the batch
//   size follows the store's latency by itself, as the store's group commit
//   does for writes.
// - Pure: no threads, no I/O, not thread-safe (chat::Delivery guards it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace parley::chat {

// A message:delivered receipt, for the sender's devices.
struct DeliveredReceipt {
  std::string message_id;
  std::string conversation_id;
  std::string sender_id;
  core::EpochMs at = 0;
  std::string user_id;    // the member who had it delivered
  bool in_group = false;  // a group's receipt names that member
};

class DeliveredCursors {
 public:
  struct Acked {
    std::int64_t seq = 0;
    std::string message_id;
    std::string sender_id;
    bool in_group = false;
  };
  struct Advance {
    std::string conversation_id;
    std::string user_id;  // the recipient whose cursor moves
    std::int64_t up_to_seq = 0;
    std::vector<Acked> acked;
  };

  // Records the ack of `m` by a device of `recipient` (a member it was
  // delivered to). True when the caller is to flush now (no flush in
  // flight).
  bool add(const store::Message& m, const std::string& recipient);
  // The advances waiting, one per conversation and recipient; a flush of
  // them is in flight until finished() was called once per advance.
  std::vector<Advance> take();
  // One advance of the flush in flight was written (or failed). True when it
  // was the last and acks are waiting: the caller is to flush again.
  bool finished();

  std::size_t acks_waiting() const { return acks_waiting_; }
  bool flushing() const { return in_flight_ > 0; }

  // The receipts an advance earns, the recipient's cursor having been
  // `before` it: each acked message past `before`, once (two devices acking
  // one message, or a device acking a message delivered before, is no news).
  static std::vector<DeliveredReceipt> receipts(const Advance& advance, std::int64_t before,
                                                core::EpochMs at);

 private:
  std::unordered_map<std::string, Advance> waiting_;  // by conversation + recipient
  std::size_t acks_waiting_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace parley::chat
