// What one receiving socket got, from the `message` object of each
// message:received: every _id at most once (IdSet), and per sender the
// sequence numbers that arrived (SeqBits), read from the tempId
// "<seq>.<send time ns>" the sender gave. After a run the controller
// compares them with what each sender had acked (delivery_tally.hpp).
//
// A message counts only if it comes from one of the expected senders and
// not from the receiver itself (the server does not echo a send to the
// socket that made it). Pure: no I/O, no clock; one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley-bench/id_set.hpp"
#include "parley-bench/seq_bits.hpp"

namespace parley::bench {

class Inbox {
 public:
  enum class Verdict {
    first,         // a new _id with a new sequence number
    seq_twice,     // a new _id for a sequence number already received: stored twice
    duplicate_id,  // an _id this receiver already had
    unexpected,    // malformed, from no expected sender, or from itself
  };
  struct Accepted {
    Verdict verdict = Verdict::unexpected;
    std::uint64_t sent_ns = 0;  // from the tempId, when not unexpected
  };

  // `sender_ids[i]` is sender i; `self`, the receiver's own index when it
  // is one of them.
  explicit Inbox(const std::vector<std::string>& sender_ids,
                 std::optional<std::size_t> self = std::nullopt);

  Accepted accept(std::string_view message);
  const SeqBits& received_from(std::size_t sender) const { return received_[sender]; }

 private:
  std::optional<std::size_t> sender_index(std::string_view id) const;

  std::vector<std::pair<std::string, std::size_t>> senders_;  // sorted by id
  std::optional<std::size_t> self_;
  std::vector<SeqBits> received_;
  IdSet ids_;
};

}  // namespace parley::bench
