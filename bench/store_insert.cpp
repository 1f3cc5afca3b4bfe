// Benchmark (not a test): the cost of the message insert path in the SQLite
// store, through SqliteStore::append_message (the real writer thread, group
// commit, schema and indexes). Appends messages in waves of W concurrent
// writes (one wave ~ one transaction) and reports microseconds per message
// for each synchronous mode, with and without a tempId.
// Usage: build/bench/store_insert [messages=100000] [wave=256]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <latch>
#include <string>

#include "core/clock.hpp"
#include "core/object_id.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace parley;

store::User make_user(store::Store& db, const std::string& email) {
  std::promise<store::User> p;
  db.create_user({core::new_object_id(), email, email, "x", core::now_ms()},
                 [&p](core::Result<store::User> r) { p.set_value(*r); });
  return p.get_future().get();
}

double run(const std::string& sync, bool temp_ids, int messages, int wave) {
  const auto dir = std::filesystem::temp_directory_path() / ("parley-bench-" + sync);
  std::filesystem::remove_all(dir);
  store::sqlite::SqliteOptions options;
  options.path = (dir / "b.db").string();
  options.synchronous = sync;
  options.readers = 1;
  auto opened = store::sqlite::SqliteStore::open(options);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().c_str());
    std::exit(1);
  }
  auto& db = **opened;
  const auto a = make_user(db, "a@bench");
  const auto b = make_user(db, "b@bench");
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
      if (temp_ids) m.temp_id = "t" + std::to_string(done + i);
      m.created_at = core::now_ms();
      m.new_conversation_id = core::new_object_id();
      db.append_message(std::move(m), [&all](core::Result<store::Appended> r) {
        if (!r) std::abort();
        all.count_down();
      });
    }
    all.wait();
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  const auto& s = db.stats();
  std::printf("synchronous=%-6s tempId=%-3s %8.2f us/message  (%llu commits, %.0f messages/s)\n",
              sync.c_str(), temp_ids ? "yes" : "no", us / messages,
              static_cast<unsigned long long>(s.batches.load()), messages / (us / 1e6));
  db.close();
  std::filesystem::remove_all(dir);
  return us / messages;
}

}  // namespace

int main(int argc, char** argv) {
  const int messages = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int wave = argc > 2 ? std::atoi(argv[2]) : 256;
  std::printf("%d messages in waves of %d concurrent appends\n", messages, wave);
  for (const char* sync : {"full", "normal", "off"}) {
    run(sync, false, messages, wave);
    run(sync, true, messages, wave);
  }
}
