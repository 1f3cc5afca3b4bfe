// The run the message modes (pairs, group) share: connect every socket,
// warm up, measure, drain, close, then one JSON report. A mode adds its
// clients in its constructor and says, through MessageRunShape, how many
// receivers each acked message must reach and what its keys are called;
// see README.md for the JSON.
//
// Threads: run() on the controlling thread, which drives the workers and
// reads their counters; the clients live on their workers' threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "parley-bench/accounts.hpp"
#include "parley-bench/delivery_tally.hpp"
#include "parley-bench/message_clients.hpp"
#include "parley-bench/run_support.hpp"

namespace parley::bench {

struct MessageTotals {
  std::uint64_t connected = 0, connect_failed = 0, dropped = 0, ended = 0;
  std::uint64_t sent = 0, acked = 0, nacked = 0, received = 0, duplicated = 0, stored_twice = 0,
                unexpected = 0, receipts = 0;
  std::uint64_t measured_sent = 0, measured_acked = 0, measured_received = 0, measured_receipts = 0;
};

struct MessageRunShape {
  std::size_t sockets = 0;
  // Receivers each message acked ok must reach: 1 in pairs, M-1 in a group.
  std::uint64_t deliveries_per_message = 1;
  // Whether the report counts message:delivered and the drain waits for
  // one per delivery.
  bool counts_receipts = false;
  std::string_view received_key = "received";
  std::string_view latency_key = "receipt_latency_ms";
};

class MessageRun {
 public:
  virtual ~MessageRun();
  MessageRun(const MessageRun&) = delete;
  MessageRun& operator=(const MessageRun&) = delete;

  int run();

 protected:
  MessageRun(const Options& o, const ServerTarget& target, const MessageRunShape& shape);

  // For the derived constructor: client i goes to worker worker_of(i).
  std::size_t worker_of(std::size_t i) const { return i % pool_.size(); }
  boost::asio::io_context& io(std::size_t worker) { return pool_[worker].io(); }
  WorkerContext& context(std::size_t worker) { return *contexts_[worker]; }
  MessageStats& stats(std::size_t worker) { return *stats_[worker]; }
  // Owns `client` (of worker `worker`, account `account`, the index-th
  // socket of the run) and queues its connect. Before run() only: the
  // queues are not shared yet.
  template <class Client>
  Client& add_client(std::unique_ptr<Client> client, std::size_t worker, const Account& account,
                     std::size_t index);

  // The mode's own settings in the report, after "ok".
  virtual void write_settings(JsonWriter& w) const = 0;
  // Acked against received, over every sender (after the workers stopped).
  virtual DeliveryTally tally() const = 0;

  const Options& o_;
  const ServerTarget& target_;
  LoadShared shared_;
  ErrorLog errors_;

 private:
  struct Outcome {
    double connect_s = 0;
    CpuSample before;
    CpuSample after;
    std::optional<std::uint64_t> rss_before;
    std::optional<std::uint64_t> rss_after;
    bool drained = false;
  };

  MessageTotals totals() const;
  bool settled(const MessageTotals& t) const;
  void teardown();
  void on_workers(void (MessageRun::*fn)(std::size_t worker));
  void start_connects(std::size_t worker);
  void begin_sending(std::size_t worker);
  void close_all(std::size_t worker);
  bool wait_phase(double seconds, Phase phase);
  void progress_line(const char* what);
  int fail_setup();
  int report(const Outcome& out);

  MessageRunShape shape_;
  SourceAddresses sources_;
  Progress progress_;
  MessageTotals last_progress_;
  // Declared before the clients so that they are destroyed after them.
  WorkerPool pool_;
  std::vector<std::unique_ptr<WorkerContext>> contexts_;
  std::vector<std::unique_ptr<MessageStats>> stats_;
  std::vector<std::unique_ptr<SocketClient>> clients_;
  std::vector<std::vector<SocketClient*>> clients_of_worker_;
  std::vector<std::vector<WindowSender*>> senders_of_worker_;
};

template <class Client>
Client& MessageRun::add_client(std::unique_ptr<Client> client, std::size_t worker,
                               const Account& account, std::size_t index) {
  Client& c = *client;
  c.queue_connect(target_, sources_.for_index(index), account.token, index);
  clients_of_worker_[worker].push_back(&c);
  if constexpr (std::is_base_of_v<WindowSender, Client>) senders_of_worker_[worker].push_back(&c);
  clients_.push_back(std::move(client));
  return c;
}

// The text of every message: `bytes` JSON-safe characters.
std::string message_text(unsigned bytes);

}  // namespace parley::bench
