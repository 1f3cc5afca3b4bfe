// parley::chat device feed: the order in which one device (socket) receives
// messages when it connects with messages pending.
//
// DESIGN
// - On connect, the device's pending messages (past its user's delivered
//   cursors) are replayed oldest first, a page at a time; live messages
//   arriving meanwhile are held, not sent, so no conversation reaches the
//   device out of seq order.
// - The last page is merged with the held live messages: in seq order per
//   conversation, each message once. A message at or below what an earlier
//   page already delivered in its conversation is a duplicate (to this user)
//   or, for the user's own messages from another device, would break the
//   order: it is left to history.
// - Live: each conversation's seq only grows on a device. A live message at
//   or below the last seq sent in its conversation was already sent (a
//   message committed just before the connect reaches the device both by
//   the replay and live) and is dropped.
// - Held messages are bounded: past the bound a live message is dropped
//   here; if it is to this user it is pending in the store and a page brings
//   it, and a sender's copy is best effort (history has it).
// - Pure: no threads, no I/O. The socket layer drives it on the socket's
//   thread and sends what it answers.
#pragma once

#include <cstddef>
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
  std::unordered_map<std::string, std::int64_t> sent_seq_;  // the last seq sent, per conversation
  std::optional<store::PendingCursor> after_;
};

}  // namespace parley::chat
