// parley::chat delivery: what happens to a message after its commit, up to
// the receipts.
//
// DESIGN
// - Fan-out through the cluster broker: each committed message and each
//   receipt is published once (channel "messages" / "receipts"; a group's
//   conversation:updated travels on "messages", so that it keeps its order
//   with the group's messages); every
//   node's subscriber hands it to that node's DeliverySink (the socket layer),
//   which reaches the local sockets of the users concerned. So the store's
//   thread only publishes, and a multi-node broker carries the same events
//   between nodes without a change here. The broker is at most once: a
//   message missed on the way stays pending in the store (its recipient's
//   delivered cursor has not passed it) and is replayed on connect.
// - At-least-once: a message to a user stays pending until one of their
//   devices acks message:received. Acks are coalesced (DeliveredCursors):
//   those that arrive while cursor writes are in flight become one advance
//   per (conversation, recipient), never a write per ack. A message:delivered
//   receipt is published for each acked message an advance moved past.
// - Replay on connect (pending()) pages through the store; the order a device
//   sees is DeviceFeed's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chat/delivered_cursors.hpp"
#include "chat/messenger.hpp"
#include "cluster/broker.hpp"
#include "store/store.hpp"

namespace parley::chat {

// A committed message for this node's devices: its recipient's (a group's
// members'), and its sender's except the device that sent it (`origin`).
struct Committed {
  store::Message message;
  std::string origin;
  store::MemberList members;  // a group message's members at its commit
};

// The real-time transport of this node. Called on the broker's thread; must
// not block.
class DeliverySink {
 public:
  virtual ~DeliverySink() = default;
  virtual void message(Committed committed) = 0;
  // The receipts of one flush of delivered cursors (one publication).
  virtual void delivered(const std::vector<DeliveredReceipt>& receipts) = 0;
  virtual void read(const store::ReadOutcome& outcome, const std::string& reader_id) = 0;
  virtual void conversation_updated(const store::GroupUpdate& update) = 0;
};

class Delivery final : public MessageEvents {
 public:
  Delivery(store::Store& store, cluster::Broker& broker);
  ~Delivery() override;
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  // Start-up, before traffic.
  void set_sink(DeliverySink* sink) { sink_ = sink; }

  // MessageEvents (store thread): published for every node.
  void message_stored(const store::Message& message, const store::MemberList& members,
                      const std::string& origin) override;
  void messages_read(const store::ReadOutcome& outcome, const std::string& reader_id) override;
  void conversation_updated(const store::GroupUpdate& update) override;

  // Any thread: a device of `recipient` acked message:received.
  void acked(const store::Message& message, const std::string& recipient);

  // The user's pending messages after `after`, oldest first (see
  // store::Store::pending_deliveries). `done` runs on a store thread.
  void pending(std::string user_id, std::optional<store::PendingCursor> after, std::size_t limit,
               store::Callback<std::vector<store::Message>> done);
  // The direct conversation of a pair, if any (typing indicators).
  void conversation_between(std::string a, std::string b,
                            store::Callback<std::optional<std::string>> done);
  // The members of a conversation of `user_id`'s (typing indicators).
  void members(std::string user_id, std::string conversation_id,
               store::Callback<std::optional<std::vector<std::string>>> done);
  // Stores when a user was last seen (their last device left).
  void went_offline(std::string user_id, core::EpochMs at, store::Callback<void> done);

 private:
  void flush();

  store::Store& store_;
  cluster::Broker& broker_;
  DeliverySink* sink_ = nullptr;

  std::mutex acks_mutex_;  // guards the three below
  DeliveredCursors cursors_;
  // The flush in flight: its advances not written yet, and the receipts
  // of those written, published together once the last is (one broker
  // publication per flush, not one per receipt: a group message acked by
  // its members is one flush of many advances).
  std::size_t advances_in_flight_ = 0;
  std::vector<DeliveredReceipt> flush_receipts_;
};

}  // namespace parley::chat
