#include "auth/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace parley::auth {

namespace blocking {

namespace {
// crypt_data is about 32 KiB: one per thread, reused.
crypt_data& thread_crypt_data() {
  thread_local auto data = std::make_unique<crypt_data>();
  return *data;
}
}  // namespace

std::string bcrypt_hash(std::string_view password, int rounds) {
  const std::string pw(password);
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(rounds), nullptr, 0, setting,
                        sizeof setting)) {
    return {};
  }
  crypt_data& data = thread_crypt_data();
  const char* out = crypt_rn(pw.c_str(), setting, &data, sizeof data);
  if (!out || out[0] == '*') return {};
  return out;
}

bool bcrypt_verify(std::string_view password, const std::string& hash) {
  const std::string pw(password);
  crypt_data& data = thread_crypt_data();
  const char* out = crypt_rn(pw.c_str(), hash.c_str(), &data, sizeof data);
  if (!out || out[0] == '*') return false;
  const std::string_view computed(out);
  return computed.size() == hash.size() &&
         CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

}  // namespace blocking

PasswordHasher::PasswordHasher(int rounds, std::size_t threads)
    : rounds_(rounds),
      dummy_hash_(blocking::bcrypt_hash("parley-dummy-password", rounds)),
      pool_("bcrypt", threads) {}

void PasswordHasher::hash(std::string password, std::function<void(std::string)> done) {
  pool_.post([this, pw = std::move(password), done = std::move(done)] {
    done(blocking::bcrypt_hash(pw, rounds_));
  });
}

void PasswordHasher::verify(std::string password, std::string hash,
                            std::function<void(bool)> done) {
  pool_.post([this, pw = std::move(password), h = std::move(hash), done = std::move(done)] {
    if (h.empty()) {
      blocking::bcrypt_verify(pw, dummy_hash_);
      return done(false);
    }
    done(blocking::bcrypt_verify(pw, h));
  });
}

}  // namespace parley::auth
