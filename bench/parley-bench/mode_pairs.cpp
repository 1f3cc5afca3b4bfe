// pairs mode: N sender/receiver pairs, each sender keeping W message:send
// in flight to its receiver; see message_run.hpp for the run and
// README.md for the JSON it prints.
#include <fmt/format.h>

#include "parley-bench/accounts.hpp"
#include "parley-bench/message_run.hpp"
#include "parley-bench/modes.hpp"

namespace parley::bench {
namespace {

class PairsRun final : public MessageRun {
 public:
  PairsRun(const Options& o, const ServerTarget& target, const std::vector<Account>& accounts);

 private:
  void write_settings(JsonWriter& w) const override;
  DeliveryTally tally() const override;

  std::vector<WindowSender*> senders_;
  std::vector<Receiver*> receivers_;
};

MessageRunShape pairs_shape(const Options& o) {
  MessageRunShape shape;
  shape.sockets = 2ULL * o.pairs;
  return shape;
}

// Sender 2i and receiver 2i+1 on the same worker.
PairsRun::PairsRun(const Options& o, const ServerTarget& target,
                   const std::vector<Account>& accounts)
    : MessageRun(o, target, pairs_shape(o)) {
  const std::string text = message_text(o.text_bytes);
  for (std::size_t i = 0; i < o.pairs; ++i) {
    const std::size_t w = worker_of(i);
    const Account& sender = accounts[2 * i];
    const Account& receiver = accounts[2 * i + 1];
    receivers_.push_back(&add_client(std::make_unique<Receiver>(io(w), context(w), errors_, shared_,
                                                                stats(w), Inbox({sender.id})),
                                     w, receiver, 2 * i + 1));
    senders_.push_back(&add_client(
        std::make_unique<WindowSender>(io(w), context(w), errors_, shared_, stats(w),
                                       send_head(fmt::format(R"("to":"{}")", receiver.id), text)),
        w, sender, 2 * i));
  }
}

void PairsRun::write_settings(JsonWriter& w) const {
  w.Key("pairs");
  w.Uint(o_.pairs);
  w.Key("window");
  w.Uint(o_.window);
  w.Key("text_bytes");
  w.Uint(o_.text_bytes);
}

DeliveryTally PairsRun::tally() const {
  DeliveryTally all;
  for (std::size_t i = 0; i < senders_.size(); ++i) {
    all += tally_deliveries(senders_[i]->sent(), senders_[i]->acked(),
                            {&receivers_[i]->inbox().received_from(0)});
  }
  return all;
}

}  // namespace

int run_pairs(const Options& o) {
  std::string error;
  const auto target = prepare_target(o, 2ULL * o.pairs, "sockets", error);
  if (!target) return fail_early(o, error);
  const RegisterPlan plan = registration_plan(o, 2ULL * o.pairs);
  auto accounts =
      register_accounts(*target, SourceAddresses(o.source_ips), run_prefix(), plan, error);
  if (!accounts) return fail_early(o, error);
  PairsRun run(o, *target, *accounts);
  return run.run();
}

}  // namespace parley::bench
