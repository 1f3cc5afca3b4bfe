#include "chat/delivery.hpp"

#include <algorithm>
#include <utility>

#include "chat/event_codec.hpp"
#include "core/clock.hpp"
#include "obs/log.hpp"

namespace parley::chat {
namespace {

constexpr const char* kMessagesChannel = "messages";
constexpr const char* kReceiptsChannel = "receipts";

}  // namespace

Delivery::Delivery(store::Store& store, cluster::Broker& broker) : store_(store), broker_(broker) {
  broker_.subscribe(kMessagesChannel, [this](const std::string& payload) {
    if (!sink_) return;
    if (event_kind(payload) == EventKind::conversation) {
      if (auto u = decode_group_update(payload)) return sink_->conversation_updated(*u);
    } else if (auto c = decode_committed(payload)) {
      return sink_->message(std::move(*c));
    }
    obs::log(obs::Level::error, "delivery: undecodable message event");
  });
  broker_.subscribe(kReceiptsChannel, [this](const std::string& payload) {
    if (!sink_) return;
    const auto kind = event_kind(payload);
    if (kind == EventKind::delivered) {
      if (auto d = decode_delivered(payload)) return sink_->delivered(*d);
    } else if (kind == EventKind::read) {
      if (auto r = decode_read(payload)) return sink_->read(r->outcome, r->reader_id);
    }
    obs::log(obs::Level::error, "delivery: undecodable receipt event");
  });
}

Delivery::~Delivery() = default;

void Delivery::message_stored(const store::Message& message, const store::MemberList& members,
                              const std::string& origin) {
  broker_.publish(kMessagesChannel, encode_committed(message, members, origin));
}

void Delivery::conversation_updated(const store::GroupUpdate& update) {
  broker_.publish(kMessagesChannel, encode(update));
}

void Delivery::messages_read(const store::ReadOutcome& outcome, const std::string& reader_id) {
  broker_.publish(kReceiptsChannel, encode(ReadEvent{outcome, reader_id}));
}

void Delivery::acked(const store::Message& m, const std::string& recipient) {
  bool now = false;
  {
    std::lock_guard lock(acks_mutex_);
    now = cursors_.add(m, recipient);
  }
  if (now) flush();
}

void Delivery::flush() {
  std::vector<DeliveredCursors::Advance> batch;
  {
    std::lock_guard lock(acks_mutex_);
    batch = cursors_.take();
    // Empty when another thread's flush took the acks first (both saw no
    // flush in flight): that flush's count of advances stays as it is.
    if (batch.empty()) return;
    advances_in_flight_ = batch.size();
  }
  const core::EpochMs at = core::now_ms();
  for (auto& a : batch) {
    auto advance = std::make_shared<DeliveredCursors::Advance>(std::move(a));
    store_.mark_delivered(
        advance->conversation_id, advance->user_id, advance->up_to_seq, at,
        [this, advance, at](core::Result<std::int64_t> before) {
          if (!before) {
            // Not stored: the messages stay pending and come again on a connect.
            obs::log(obs::Level::warn, "delivered cursor: {}", before.error().detail);
          }
          bool again = false;
          std::vector<DeliveredReceipt> receipts;
          {
            std::lock_guard lock(acks_mutex_);
            if (before) {
              auto earned = DeliveredCursors::receipts(*advance, *before, at);
              flush_receipts_.insert(flush_receipts_.end(), std::make_move_iterator(earned.begin()),
                                     std::make_move_iterator(earned.end()));
            }
            if (--advances_in_flight_ == 0) receipts.swap(flush_receipts_);
            again = cursors_.finished();
          }
          if (!receipts.empty()) broker_.publish(kReceiptsChannel, encode(receipts));
          if (again) flush();
        });
  }
}

void Delivery::pending(std::string user_id, std::optional<store::PendingCursor> after,
                       std::size_t limit, store::Callback<std::vector<store::Message>> done) {
  store_.pending_deliveries(std::move(user_id), std::move(after), limit, std::move(done));
}

void Delivery::conversation_between(std::string a, std::string b,
                                    store::Callback<std::optional<std::string>> done) {
  store_.conversation_between(std::move(a), std::move(b), std::move(done));
}

void Delivery::members(std::string user_id, std::string conversation_id,
                       store::Callback<std::optional<std::vector<std::string>>> done) {
  store_.members(std::move(user_id), std::move(conversation_id), std::move(done));
}

void Delivery::went_offline(std::string user_id, core::EpochMs at, store::Callback<void> done) {
  store_.set_last_seen(std::move(user_id), at, std::move(done));
}

}  // namespace parley::chat
