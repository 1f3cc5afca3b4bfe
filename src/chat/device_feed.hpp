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
// - Live: each message once, in seq order per conversation. On one node
//   messages reach the device in seq order (commit order). When several
//   nodes write one conversation, each publishes its own commits, so a
//   message may reach this node after a later one. A live message with a
//   gap below it (a seq after the last sent is missing) waits, up to
//   `reorder_wait`, for the missing ones; they are sent first, then it. The
//   device's own messages leave no gap (own()). A wait that ends with the
//   gap still there starts a replay from the store (the publication was
//   lost: Redis restarted, a node cut off), which sends what is pending in
//   order, then what waited. A message arriving after that is still sent,
//   late, never dropped (the device's ack of a later one has already moved
//   its user's delivered cursor past it).
// - Duplicates: a conversation keeps the seqs sent in a window (its
//   highest, and which of the kSeqWindow below it); a message it holds is
//   dropped (a message committed just before the connect reaches the device
//   both by the replay and live). A message further behind than the window
//   is left to history (`afterSeq`).
// - Held messages are bounded: past the bound a live message is dropped
//   here; if it is to this user it is pending in the store and a page brings
//   it, and a sender's copy is best effort (history has it).
// - Pure: no threads, no I/O. The socket layer drives it on the socket's
//   thread and sends what it answers.
#pragma once

#include <bitset>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
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
  // Whether `seq` counts as sent (anything behind the window does).
  bool sent(std::int64_t seq) const;
  std::int64_t top() const { return top_; }

 private:
  std::int64_t top_ = 0;
  std::bitset<kSeqWindow> below_;  // bit i: seq top_ - 1 - i was sent
};

class DeviceFeed {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kDefaultMaxHeld = 1000;
  static constexpr std::chrono::milliseconds kDefaultReorderWait{250};
  // Messages of one conversation waiting for a gap below them; beyond it
  // they all go at once.
  static constexpr std::size_t kMaxWaiting = 512;

  explicit DeviceFeed(std::size_t max_held = kDefaultMaxHeld,
                      std::chrono::milliseconds reorder_wait = kDefaultReorderWait)
      : max_held_(max_held), reorder_wait_(reorder_wait) {}

  bool replaying() const { return replaying_; }
  // Where the next replay page starts (nullopt: from the oldest).
  const std::optional<store::PendingCursor>& next_page_after() const { return after_; }

  // A live message: what to send now, in order. Nothing when it is held
  // for the end of the replay (or dropped: already sent, or the hold full)
  // or waits for a gap below it; it, and the messages that waited for it.
  std::vector<OutgoingPtr> live(const OutgoingPtr& item, Clock::time_point now);
  // A message this device sent, as the store stored it: it is not sent back
  // to this device, and counts as sent here so that it leaves no gap. What
  // waited for it is answered, in order.
  std::vector<OutgoingPtr> own(const std::string& conversation_id, std::int64_t seq);
  // When the next wait for a gap is over (nullopt: none waits).
  std::optional<Clock::time_point> next_due() const;
  // A wait over at `now` starts a new replay: what waits is held for it
  // (as live messages are during any replay), and the replay brings what
  // is pending from the store: a message published while this node was cut
  // off from the others reaches the device then, in order. True when it
  // did; the caller replays.
  bool resync_due(Clock::time_point now);

  // A full replay page, all of which is to be sent, in order.
  void page(const std::vector<OutgoingPtr>& items);
  // The last page (shorter than a full one, or none when the store failed):
  // ends the replay and answers what to send, in order.
  std::vector<OutgoingPtr> last_page(std::vector<OutgoingPtr> items);

  std::size_t held() const { return held_.size(); }

 private:
  struct Conversation {
    SentSeqs sent;
    // Every seq up to it is sent or this device's own (or was given up
    // on); 0: nothing here yet.
    std::int64_t frontier = 0;
    std::map<std::int64_t, OutgoingPtr> waiting;  // by seq: a gap below each
    Clock::time_point waiting_since;              // of the oldest wait
  };
  // Moves waiting messages to `out`: those the gap no longer separates
  // (all of them when `all`).
  static void release(Conversation& c, std::vector<OutgoingPtr>& out, bool all);
  // `seq` is sent (or the device's own): the frontier moves over it when
  // it closes the gap; `jump`: past any gap below it (the replay, a wait
  // given up).
  static void account(Conversation& c, std::int64_t seq, bool jump);

  std::size_t max_held_;
  std::chrono::milliseconds reorder_wait_;
  bool replaying_ = true;
  std::vector<OutgoingPtr> held_;
  std::unordered_map<std::string, Conversation> conversations_;
  std::size_t waiting_conversations_ = 0;  // with something waiting
  std::optional<store::PendingCursor> after_;
};

}  // namespace parley::chat
