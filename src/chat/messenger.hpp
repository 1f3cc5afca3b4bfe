// parley::chat messenger: the rules for sending, reading and paging
// messages. The HTTP routes and the Socket.IO events call these same
// functions, so both transports get the same behaviour.
//
// DESIGN
// - Validation and rate limiting happen here, before the store is asked.
// - A send completes after its transaction is durable (the store's group
//   commit); then, and only then, MessageEvents hears of it, so the
//   real-time layer never announces a message that could still be lost.
// - Callbacks run on store threads; callers post back to their executor.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cluster/rate_limit.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace parley::chat {

template <typename T>
using Callback = std::function<void(core::Result<T>)>;

// Told of committed changes, from a store thread. Implementations must not
// block (the real-time layer posts to socket executors).
class MessageEvents {
 public:
  virtual ~MessageEvents() = default;
  // `origin`: the socket that sent it (empty over HTTP), which is not
  // echoed the message:received event. `members`: a group message's
  // members at its commit (null for a direct message).
  virtual void message_stored(const store::Message& message, const store::MemberList& members,
                              const std::string& origin) = 0;
  virtual void messages_read(const store::ReadOutcome& outcome, const std::string& reader_id) = 0;
  // A group was created, renamed, or gained or lost members.
  virtual void conversation_updated(const store::GroupUpdate& update) = 0;
};

struct SendRequest {
  std::string from;  // the authenticated user, never the payload
  // nullopt: absent from the request.
  std::optional<std::string> to;
  // Contract v1.1: in place of `to` (exactly one of the two).
  std::optional<std::string> conversation_id;
  std::optional<std::string> text;
  std::optional<std::string> temp_id;
  std::string origin;  // the sending socket's id, if any
};

struct Sent {
  store::Message message;
  bool duplicate = false;  // a retried tempId: the original message
};

struct HistoryRequest {
  std::string caller_id;
  std::string target_id;
  std::size_t limit = 50;
  std::size_t skip = 0;
  std::optional<std::string> before_id;
  std::optional<std::int64_t> after_seq;
};

struct ReadRequest {
  std::string caller_id;
  std::string target_id;
  std::optional<std::string> up_to_id;
};

class Messenger {
 public:
  static constexpr std::size_t kMaxTextChars = 4000;
  static constexpr std::size_t kMaxTempIdChars = 64;
  static constexpr std::size_t kMaxPageSize = 200;

  Messenger(store::Store& store, cluster::RateLimit& send_limiter);

  // Set once at start-up, before any traffic.
  void set_events(MessageEvents* events) { events_ = events; }

  // `prior` carries field errors found while decoding the request (wrong
  // types); they are reported together with this function's own.
  void send(SendRequest request, core::Error prior, Callback<Sent> done);
  void history(HistoryRequest request, Callback<store::History> done);
  void conversations(std::string user_id, Callback<std::vector<store::ConversationSummary>> done);
  // One of the caller's conversations by its id, as conversations() lists
  // it; not_found for any other id (one the caller is not in, a user id).
  void conversation(std::string user_id, std::string conversation_id,
                    Callback<store::ConversationSummary> done);
  void mark_read(ReadRequest request, Callback<store::ReadOutcome> done);
  // Answers when the message store can serve a query (health checks).
  void ping(Callback<void> done) { store_.ping(std::move(done)); }

 private:
  void store_message(SendRequest request, Callback<Sent> done);

  store::Store& store_;
  cluster::RateLimit& send_limiter_;
  MessageEvents* events_ = nullptr;
};

}  // namespace parley::chat
