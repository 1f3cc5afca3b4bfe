// parley::chat device feed: the order in which one device (socket) receives
// messages when it connects with messages pending.
//
// DESIGN
// - On connect, the device's pending messages (past its user's delivered
//   cursors) are replayed oldest first, a page at a time; live messages
//   arriving meanwhile are held, not sent, so no conversation reaches the
//   device out of seq order.
// - The last page is merged with the held live messages: in seq order per
//   conversation, each message once.
// - Live: each message once. On one node messages reach the device in seq
//   order per conversation (commit order). When several nodes write one
//   conversation, a message may reach this node after a later one (each
//   node publishes its own commits): it is sent late, never dropped, since
//   the device's ack of the later one has already moved its user's
//   delivered cursor past it. So a conversation keeps the seqs sent in a
//   window (its highest, and which of the kSeqWindow below it), and only
//   what it holds is dropped as a duplicate (a message committed just
//   before the connect reaches the device both by the replay and live). A
//   message further behind than the window is left to history (`afterSeq`).
// - Held messages are bounded: past the bound a live message is dropped
//   here; if it is to this user it is pending in the store and a page brings
//   it, and a sender's copy is best effort (history has it).
// - Pure: no threads, no I/O. The socket layer drives it on the socket's
//   thread and sends what it answers.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store.hpp"

namespace parley::chat {

// A message on its way to devices, with the transport's encoding of it:
// built once per message and shared by every device that gets it.
struct Outgoing {
  store::Message message;
  std::string encoded;
};
using OutgoingPtr = std::shared_ptr<const Outgoing>;

// The seqs sent to a device in one conversation: the highest, and which of
// the kSeqWindow below it.
class SentSeqs {
 public:
  static constexpr std::size_t kSeqWindow = 512;
  // True when `seq` was not sent yet: it counts as sent from now on.
  bool mark(std::int64_t seq);

 private:
  std::int64_t top_ = 0;
  std::bitset<kSeqWindow> below_;  // bit i: seq top_ - 1 - i was sent
};

class DeviceFeed {
 public:
  static constexpr std::size_t kDefaultMaxHeld = 1000;
  explicit DeviceFeed(std::size_t max_held = kDefaultMaxHeld) : max_held_(max_held) {}

  bool replaying() const { return replaying_; }
  // Where the next replay page starts (nullopt: from the oldest).
  const std::optional<store::PendingCursor>& next_page_after() const { return after_; }

  // A live message: true when it is to be sent now; false when it is held
  // for the end of the replay (or dropped: already sent, or the hold full).
  bool live(const OutgoingPtr& item);
  // A full replay page, all of which is to be sent, in order.
  void page(const std::vector<OutgoingPtr>& items);
  // The last page (shorter than a full one, or none when the store failed):
  // ends the replay and answers what to send, in order.
  std::vector<OutgoingPtr> last_page(std::vector<OutgoingPtr> items);

  std::size_t held() const { return held_.size(); }

 private:
  std::size_t max_held_;
  bool replaying_ = true;
  std::vector<OutgoingPtr> held_;
  std::unordered_map<std::string, SentSeqs> sent_;  // per conversation
  std::optional<store::PendingCursor> after_;
};

}  // namespace parley::chat
