// group mode: one group of M members, one socket each; S of them keep W
// message:send in flight to the group, and every member acks every
// message:received. See message_run.hpp for the run and README.md for the
// JSON it prints.
#include <fmt/format.h>

#include "parley-bench/accounts.hpp"
#include "parley-bench/group_setup.hpp"
#include "parley-bench/message_run.hpp"
#include "parley-bench/modes.hpp"

namespace parley::bench {
namespace {

class GroupRun final : public MessageRun {
 public:
  GroupRun(const Options& o, const ServerTarget& target, const std::vector<Account>& members,
           const std::string& conversation_id);

 private:
  void write_settings(JsonWriter& w) const override;
  DeliveryTally tally() const override;

  // Members [0, S) send; senders_[i] and inboxes_[i] are member i's.
  std::vector<GroupSender*> senders_;
  std::vector<const Inbox*> inboxes_;
};

MessageRunShape group_shape(const Options& o) {
  MessageRunShape shape;
  shape.sockets = o.members;
  shape.deliveries_per_message = o.members - 1;
  shape.counts_receipts = true;
  shape.received_key = "deliveries";
  shape.latency_key = "delivery_latency_ms";
  return shape;
}

GroupRun::GroupRun(const Options& o, const ServerTarget& target,
                   const std::vector<Account>& members, const std::string& conversation_id)
    : MessageRun(o, target, group_shape(o)) {
  std::vector<std::string> sender_ids;
  for (std::size_t i = 0; i < o.senders; ++i) sender_ids.push_back(members[i].id);
  const std::string head = send_head(fmt::format(R"("conversationId":"{}")", conversation_id),
                                     message_text(o.text_bytes));
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::size_t w = worker_of(i);
    if (i < o.senders) {
      auto& s = add_client(std::make_unique<GroupSender>(io(w), context(w), errors_, shared_,
                                                         stats(w), head, Inbox(sender_ids, i)),
                           w, members[i], i);
      senders_.push_back(&s);
      inboxes_.push_back(&s.inbox());
    } else {
      auto& r = add_client(std::make_unique<Receiver>(io(w), context(w), errors_, shared_, stats(w),
                                                      Inbox(sender_ids)),
                           w, members[i], i);
      inboxes_.push_back(&r.inbox());
    }
  }
}

void GroupRun::write_settings(JsonWriter& w) const {
  w.Key("members");
  w.Uint(o_.members);
  w.Key("senders");
  w.Uint(o_.senders);
  w.Key("window");
  w.Uint(o_.window);
  w.Key("text_bytes");
  w.Uint(o_.text_bytes);
}

// Each sender's messages against every other member's inbox.
DeliveryTally GroupRun::tally() const {
  DeliveryTally all;
  std::vector<const SeqBits*> receivers;
  receivers.reserve(inboxes_.size());
  for (std::size_t s = 0; s < senders_.size(); ++s) {
    receivers.clear();
    for (std::size_t m = 0; m < inboxes_.size(); ++m) {
      if (m != s) receivers.push_back(&inboxes_[m]->received_from(s));
    }
    all += tally_deliveries(senders_[s]->sent(), senders_[s]->acked(), receivers);
  }
  return all;
}

}  // namespace

int run_group(const Options& o) {
  std::string error;
  const auto target = prepare_target(o, o.members, "sockets", error);
  if (!target) return fail_early(o, error);
  const std::string prefix = run_prefix();
  const RegisterPlan plan = registration_plan(o, o.members);
  const SourceAddresses sources(o.source_ips);
  auto members = register_accounts(*target, sources, prefix, plan, error);
  if (!members) return fail_early(o, error);
  const auto conversation_id =
      create_group(*target, sources.for_index(0), fmt::format("bench {}", prefix), *members,
                   o.connect_timeout_s, error);
  if (!conversation_id) return fail_early(o, error);
  GroupRun run(o, *target, *members, *conversation_id);
  return run.run();
}

}  // namespace parley::bench
