#include "chat/messenger.hpp"

#include "core/clock.hpp"
#include "core/object_id.hpp"
#include "core/utf8.hpp"

namespace parley::chat {

namespace {

core::Error not_found(std::string message) {
  return core::Error::make(core::ErrorCode::not_found, std::move(message));
}

}  // namespace

Messenger::Messenger(store::Store& store, cluster::RateLimit& send_limiter)
    : store_(store), send_limiter_(send_limiter) {}

void Messenger::send(SendRequest req, core::Error prior, Callback<Sent> done) {
  core::Error err = std::move(prior);
  if (req.to && req.conversation_id) {
    err.add_field("conversationId", "give either to or conversationId, not both");
  } else if (!req.to && !req.conversation_id) {
    err.add_field("to", "is required");
  }
  if (!req.text) {
    err.add_field("text", "is required");
  } else {
    const auto chars = core::utf8_length(*req.text);
    if (!chars) {
      err.add_field("text", "must be valid UTF-8");
    } else if (*chars < 1 || *chars > kMaxTextChars) {
      err.add_field("text", "must be 1-4000 characters");
    } else if (core::trim_unicode(*req.text).empty()) {
      err.add_field("text", "must not be only whitespace");
    }
  }
  if (req.temp_id) {
    const auto chars = core::utf8_length(*req.temp_id);
    if (!chars || *chars < 1 || *chars > kMaxTempIdChars) {
      err.add_field("tempId", "must be 1-64 characters");
    }
  }
  if (req.to && *req.to == req.from) err.add_field("to", "cannot be yourself");
  if (!err.fields.empty()) return done(core::fail(std::move(err)));
  if (req.to && !core::is_object_id(*req.to)) {
    return done(core::fail(not_found("Recipient not found")));
  }
  if (req.conversation_id && !core::is_object_id(*req.conversation_id)) {
    return done(core::fail(not_found("Conversation not found")));
  }

  // The limit holds across the nodes of a deployment (REDIS_URL): it may
  // answer on another thread. One user's sends are answered in order.
  auto from = req.from;
  send_limiter_.take(from, [this, req = std::move(req),
                            done = std::move(done)](cluster::RateLimit::Decision d) mutable {
    if (!d.allowed) {
      core::Error e =
          core::Error::make(core::ErrorCode::rate_limited, "Too many messages, slow down");
      e.retry_after_seconds = d.retry_after_seconds;
      return done(core::fail(std::move(e)));
    }
    store_message(std::move(req), std::move(done));
  });
}

void Messenger::store_message(SendRequest req, Callback<Sent> done) {
  store::NewMessage m;
  m.id = core::new_object_id();
  m.from = std::move(req.from);
  m.text = std::move(*req.text);
  m.temp_id = std::move(req.temp_id);
  m.created_at = core::now_ms();
  m.new_conversation_id = core::new_object_id();
  if (req.to) {
    m.to = std::move(*req.to);
  } else {
    // By conversation: the store checks that the sender is a member (a
    // conversation they are not in is not found, as everywhere).
    m.conversation_id = std::move(req.conversation_id);
  }
  store_.append_message(std::move(m), [this, origin = std::move(req.origin),
                                       done = std::move(done)](core::Result<store::Appended> r) {
    if (!r) return done(core::fail(std::move(r.error())));
    if (!r->duplicate && events_) events_->message_stored(r->message, r->members, origin);
    done(Sent{std::move(r->message), r->duplicate});
  });
}

void Messenger::history(HistoryRequest req, Callback<store::History> done) {
  if (!core::is_object_id(req.target_id)) {
    return done(core::fail(not_found("Conversation not found")));
  }
  core::Error err;
  if (req.limit < 1 || req.limit > kMaxPageSize) {
    err.add_field("limit", "must be an integer from 1 to 200");
  }
  if (req.before_id && !core::is_object_id(*req.before_id)) {
    err.add_field("before", "must be a message id");
  }
  if (req.after_seq && *req.after_seq < 0) {
    err.add_field("afterSeq", "must be a non-negative integer");
  }
  if (!err.fields.empty()) return done(core::fail(std::move(err)));
  store::HistoryQuery q{std::move(req.caller_id),
                        std::move(req.target_id),
                        req.limit,
                        req.skip,
                        std::move(req.before_id),
                        req.after_seq};
  store_.read_history(std::move(q),
                      [done = std::move(done)](core::Result<std::optional<store::History>> r) {
                        if (!r) return done(core::fail(std::move(r.error())));
                        if (!*r) return done(core::fail(not_found("Conversation not found")));
                        done(std::move(**r));
                      });
}

void Messenger::conversations(std::string user_id,
                              Callback<std::vector<store::ConversationSummary>> done) {
  store_.list_conversations(std::move(user_id), std::move(done));
}

void Messenger::conversation(std::string user_id, std::string conversation_id,
                             Callback<store::ConversationSummary> done) {
  if (!core::is_object_id(conversation_id)) {
    return done(core::fail(not_found("Conversation not found")));
  }
  store_.conversation(
      std::move(user_id), std::move(conversation_id),
      [done = std::move(done)](core::Result<std::optional<store::ConversationSummary>> r) {
        if (!r) return done(core::fail(std::move(r.error())));
        if (!*r) return done(core::fail(not_found("Conversation not found")));
        done(std::move(**r));
      });
}

void Messenger::mark_read(ReadRequest req, Callback<store::ReadOutcome> done) {
  if (!core::is_object_id(req.target_id)) {
    return done(core::fail(not_found("Conversation not found")));
  }
  if (req.up_to_id && !core::is_object_id(*req.up_to_id)) {
    return done(core::fail(core::Error::validation("upTo", "must be a message id")));
  }
  std::string reader = req.caller_id;
  store::ReadRequest r{std::move(req.caller_id), std::move(req.target_id), std::move(req.up_to_id),
                       core::now_ms()};
  store_.mark_read(std::move(r), [this, reader = std::move(reader), done = std::move(done)](
                                     core::Result<std::optional<store::ReadOutcome>> out) {
    if (!out) return done(core::fail(std::move(out.error())));
    if (!*out) return done(core::fail(not_found("Conversation not found")));
    if ((*out)->count > 0 && events_) events_->messages_read(**out, reader);
    done(std::move(**out));
  });
}

}  // namespace parley::chat
