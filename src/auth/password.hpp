// Password hashing with bcrypt (`$2b$`, libxcrypt). Hashing costs tens to
// hundreds of milliseconds by design, so PasswordHasher runs it on its own
// CPU pool and never on the caller's thread; the blocking primitives live in
// `blocking` so that a call site names the cost it pays.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/thread_pool.hpp"

namespace parley::auth {

namespace blocking {
// Returns an empty string if libxcrypt fails (no entropy, bad cost).
std::string bcrypt_hash(std::string_view password, int rounds);
// Constant-time comparison of the recomputed hash.
bool bcrypt_verify(std::string_view password, const std::string& hash);
}  // namespace blocking

class PasswordHasher {
 public:
  // Computes the dummy hash used for unknown emails (one bcrypt at `rounds`).
  PasswordHasher(int rounds, std::size_t threads);

  // `done` runs on a hasher thread; it must post back to its own executor.
  void hash(std::string password, std::function<void(std::string hash)> done);
  // With an empty `hash` (unknown account) a dummy hash of the same cost is
  // checked so the answer takes the same time; the result is then false.
  void verify(std::string password, std::string hash, std::function<void(bool ok)> done);

  void stop() { pool_.stop(); }

 private:
  int rounds_;
  std::string dummy_hash_;
  core::ThreadPool pool_;
};

}  // namespace parley::auth
