#include "parley-bench/delivery_tally.hpp"

namespace parley::bench {

DeliveryTally tally_deliveries(std::uint64_t sent, const SeqBits& acked,
                               const std::vector<const SeqBits*>& receivers) {
  DeliveryTally tally;
  for (std::uint64_t seq = 0; seq < sent; ++seq) {
    const bool ok = acked.test(seq);
    bool anywhere = false;
    for (const SeqBits* r : receivers) {
      const bool got = r->test(seq);
      anywhere = anywhere || got;
      if (ok && !got) ++tally.missing;
    }
    if (anywhere && !ok) ++tally.received_unacked;
  }
  return tally;
}

}  // namespace parley::bench
