// The Socket.IO clients of the message modes (pairs, group).
//
// A WindowSender keeps exactly `window` message:send in flight: each of
// its window slots holds one un-acked send, and the ack for a slot sends
// the next message from it. What a send is addressed to is the packet head
// it is given (`"to":<user>` in pairs mode, `"conversationId":<group>` in
// group mode). A send carries tempId "<seq>.<send time ns>", so receivers
// can tell the sender's sequence number and the send time without a shared
// table. Ack ids are chosen as slot + window * generation: the slot of an
// ack is its id modulo the window, whatever order acks come in. It counts
// the message:delivered receipts it gets.
//
// A Receiver acks every message:received and records it in its Inbox. A
// GroupSender is a WindowSender that also receives, with an Inbox, the
// other senders' messages in its group.
//
// Threads: each client on its worker's thread; the controller reads the
// counters while running and everything else after the workers stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley-bench/histogram.hpp"
#include "parley-bench/inbox.hpp"
#include "parley-bench/seq_bits.hpp"
#include "parley-bench/socket_client.hpp"

namespace parley::bench {

enum class Phase : int {
  setup,    // registering, connecting
  warmup,   // sending, not measured
  measure,  // sending, measured
  drain,    // no new sends; waiting for what is in flight
  closing,
};

struct LoadShared {
  std::atomic<Phase> phase{Phase::setup};
  unsigned window = 1;
  Phase now() const { return phase.load(std::memory_order_relaxed); }
};

// Per worker; measured_* count only events in the measure phase.
struct MessageStats {
  RelaxedCounter sent;
  RelaxedCounter acked;
  RelaxedCounter nacked;
  RelaxedCounter received;      // distinct _ids per receiver: deliveries
  RelaxedCounter duplicated;    // an _id received again by the same receiver
  RelaxedCounter stored_twice;  // two _ids for one tempId
  RelaxedCounter unexpected;    // acks or messages that match nothing sent
  RelaxedCounter receipts;      // message:delivered at the senders
  RelaxedCounter measured_sent;
  RelaxedCounter measured_acked;
  RelaxedCounter measured_received;
  RelaxedCounter measured_receipts;
  Histogram ack_ns;
  Histogram receipt_ns;  // send to message:received
};

// The head of a message:send packet up to the tempId's value, for `text`
// (JSON-safe characters only) addressed by `address`: `"to":"<id>"` or
// `"conversationId":"<id>"`.
std::string send_head(std::string_view address, std::string_view text);

class WindowSender : public SocketClient {
 public:
  WindowSender(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
               const LoadShared& shared, MessageStats& stats, std::string head);

  // Fills the window (on the worker thread, once connected).
  void begin_sending();

  std::uint64_t sent() const { return next_seq_; }
  const SeqBits& acked() const { return acked_; }

 protected:
  // An event that is not a receipt (acked already if it asked for one).
  virtual void on_event(const EventView& /*event*/) {}

  const LoadShared& shared_;
  MessageStats& stats_;

 private:
  struct Slot {
    std::uint32_t ack_id = 0;
    std::uint32_t generation = 0;
    bool busy = false;
    std::uint64_t seq = 0;
    std::uint64_t sent_ns = 0;
  };

  void on_packet(WsConnection& conn, const SioPacket& packet) final;
  void on_ack(const SioPacket& packet);
  void send(std::size_t slot);

  std::string head_;  // `["message:send",{<address>,"text":"<text>","tempId":"`
  std::vector<Slot> slots_;
  std::uint64_t next_seq_ = 0;
  SeqBits acked_;
};

class Receiver final : public SocketClient {
 public:
  Receiver(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
           const LoadShared& shared, MessageStats& stats, Inbox inbox);

  const Inbox& inbox() const { return inbox_; }

 private:
  void on_packet(WsConnection& conn, const SioPacket& packet) override;

  const LoadShared& shared_;
  MessageStats& stats_;
  Inbox inbox_;
};

class GroupSender final : public WindowSender {
 public:
  GroupSender(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
              const LoadShared& shared, MessageStats& stats, std::string head, Inbox inbox);

  const Inbox& inbox() const { return inbox_; }

 private:
  void on_event(const EventView& event) override;

  Inbox inbox_;
};

}  // namespace parley::bench
