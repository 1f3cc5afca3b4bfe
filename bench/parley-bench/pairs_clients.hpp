// The two ends of a pair in pairs mode.
//
// A PairSender keeps exactly `window` message:send in flight to its
// receiver: each of its window slots holds one un-acked send, and the ack
// for a slot sends the next message from it. A send carries
// tempId "<seq>.<send time ns>", so the receiver can tell the sender's
// sequence number and the send time without a shared table. Ack ids are
// chosen as slot + window * generation: the slot of an ack is its id modulo
// the window, whatever order acks come in.
//
// A PairReceiver acks every message:received, finds duplicates by _id
// (IdSet) and records which sequence numbers arrived (SeqBits) so the
// controller can count, after the run, messages acked but never received.
//
// Threads: each client on its worker's thread; the controller reads the
// counters while running and everything else after the workers stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "parley-bench/histogram.hpp"
#include "parley-bench/id_set.hpp"
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

struct PairsShared {
  std::atomic<Phase> phase{Phase::setup};
  unsigned window = 1;
  std::string text;  // the message text: JSON-safe characters only
  Phase now() const { return phase.load(std::memory_order_relaxed); }
};

// Per worker; measured_* count only events in the measure phase.
struct PairsStats {
  RelaxedCounter sent;
  RelaxedCounter acked;
  RelaxedCounter nacked;
  RelaxedCounter received;      // distinct _ids
  RelaxedCounter duplicated;    // an _id received again by the same receiver
  RelaxedCounter stored_twice;  // two _ids for one tempId
  RelaxedCounter unexpected;    // acks or messages that match nothing sent
  RelaxedCounter measured_sent;
  RelaxedCounter measured_acked;
  RelaxedCounter measured_received;
  Histogram ack_ns;
  Histogram receipt_ns;
};

class PairSender final : public SocketClient {
 public:
  PairSender(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
             const PairsShared& shared, PairsStats& stats, const std::string& receiver_id);

  // Fills the window (on the worker thread, once connected).
  void begin_sending();

  std::uint64_t sent() const { return next_seq_; }
  const SeqBits& acked() const { return acked_; }

 private:
  struct Slot {
    std::uint32_t ack_id = 0;
    std::uint32_t generation = 0;
    bool busy = false;
    std::uint64_t seq = 0;
    std::uint64_t sent_ns = 0;
  };

  void on_packet(WsConnection& conn, const SioPacket& packet) override;
  void on_ack(const SioPacket& packet);
  void send(std::size_t slot);

  const PairsShared& shared_;
  PairsStats& stats_;
  std::string head_;  // `["message:send",{"to":"<id>","text":"<text>","tempId":"`
  std::vector<Slot> slots_;
  std::uint64_t next_seq_ = 0;
  SeqBits acked_;
};

class PairReceiver final : public SocketClient {
 public:
  PairReceiver(boost::asio::io_context& io, WorkerContext& ctx, ErrorLog& errors,
               const PairsShared& shared, PairsStats& stats, const std::string& sender_id);

  const SeqBits& received() const { return received_; }

 private:
  void on_packet(WsConnection& conn, const SioPacket& packet) override;
  void on_message(std::string_view message);

  const PairsShared& shared_;
  PairsStats& stats_;
  std::string sender_id_;
  IdSet ids_;
  SeqBits received_;
};

}  // namespace parley::bench
