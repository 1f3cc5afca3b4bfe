// Benchmark (not a test): the message insert path of the PostgreSQL store,
// through PgStore::append_message (the real writer thread, group commit with
// synchronous_commit=on, schema and indexes). Appends messages in waves of W
// concurrent writes (one wave ~ one transaction) into one conversation and
// reports microseconds per message, with and without a tempId. Uses the
// database URL given (a scratch database: it creates the schema there).
// Usage: build/bench/pg_store_insert URL [messages=20000] [wave=256]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <latch>
#include <string>

#include "core/clock.hpp"
#include "core/object_id.hpp"
#include "store/pg/pg_store.hpp"

namespace {

using namespace parley;

store::User make_user(store::Store& db, const std::string& email) {
  std::promise<store::User> p;
  db.create_user({core::new_object_id(), email, email, "x", core::now_ms()},
                 [&p](core::Result<store::User> r) { p.set_value(*r); });
  return p.get_future().get();
}

void run(const std::string& url, bool temp_ids, int messages, int wave) {
  auto opened = store::pg::PgStore::open({url, 1});
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().c_str());
    std::exit(1);
  }
  auto& db = **opened;
  const std::string run_id = core::new_object_id();
  const auto a = make_user(db, "a-" + run_id + "@bench");
  const auto b = make_user(db, "b-" + run_id + "@bench");
  const auto batches_before = db.stats().batches.load();
  const auto start = std::chrono::steady_clock::now();
  for (int done = 0; done < messages; done += wave) {
    const int n = std::min(wave, messages - done);
    std::latch all(n);
    for (int i = 0; i < n; ++i) {
      store::NewMessage m;
      m.id = core::new_object_id();
      m.from = a.id;
      m.to = b.id;
      m.text = "benchmark message number " + std::to_string(done + i);
      if (temp_ids) m.temp_id = run_id + "-" + std::to_string(done + i);
      m.created_at = core::now_ms();
      m.new_conversation_id = core::new_object_id();
      db.append_message(std::move(m), [&all](core::Result<store::Appended> r) {
        if (!r) {
          std::fprintf(stderr, "append: %s\n", r.error().detail.c_str());
          std::abort();
        }
        all.count_down();
      });
    }
    all.wait();
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("tempId=%-3s %8.2f us/message  (%llu commits, %.0f messages/s)\n",
              temp_ids ? "yes" : "no", us / messages,
              static_cast<unsigned long long>(db.stats().batches.load() - batches_before),
              messages / (us / 1e6));
  db.close();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [messages] [wave]\n", argv[0]);
    return 2;
  }
  const int messages = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int wave = argc > 3 ? std::atoi(argv[3]) : 256;
  std::printf("%d messages in waves of %d concurrent appends, synchronous_commit=on\n", messages,
              wave);
  run(argv[1], false, messages, wave);
  run(argv[1], true, messages, wave);
}
