// After a run: what each sender had acked ok against what its receivers
// got. Every message acked ok must have reached every receiver that was
// to get it (one in pairs mode, every other member of the group in group
// mode); a message some receiver got that was never acked ok was stored
// although refused, or its ack is still missing. Pure.
#pragma once

#include <cstdint>
#include <vector>

#include "parley-bench/seq_bits.hpp"

namespace parley::bench {

struct DeliveryTally {
  std::uint64_t missing = 0;           // (acked message, receiver) pairs never received
  std::uint64_t received_unacked = 0;  // messages received by some receiver, never acked ok

  DeliveryTally& operator+=(const DeliveryTally& other) {
    missing += other.missing;
    received_unacked += other.received_unacked;
    return *this;
  }
};

// Sequence numbers [0, sent) of one sender; `receivers` holds, for each
// receiver that was to get them, the sequence numbers it got from it.
DeliveryTally tally_deliveries(std::uint64_t sent, const SeqBits& acked,
                               const std::vector<const SeqBits*>& receivers);

}  // namespace parley::bench
