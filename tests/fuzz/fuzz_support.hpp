// Helpers shared by the libFuzzer targets in this folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

namespace parley::fuzz {

// A broken property: says which, then aborts so libFuzzer saves the input.
inline void check(bool ok, const char* property) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property broken: %s\n", property);
  std::abort();
}

// With PARLEY_FUZZ_SEED_CHECK set in the environment (scripts/fuzz.sh sets
// it while it runs the seed corpus once), an input the target's parser
// rejects is an error: seeds are meant to be valid examples, so a rejected
// one only teaches the fuzzer an early way out. Seeds meant to be rejected
// are named invalid-* and skipped by that check.
inline void expect_accepted(bool accepted, const char* what) {
  static const bool seed_check = std::getenv("PARLEY_FUZZ_SEED_CHECK") != nullptr;
  if (seed_check && !accepted) {
    std::fprintf(stderr, "seed rejected by %s\n", what);
    std::abort();
  }
}

// Splits the input into chunks the way uWebSockets' fuzz harnesses do, so
// a streaming parser meets every split point: each chunk is preceded by
// one byte giving its length, 0 meaning "all that remains".
template <typename Fn>
void for_each_chunk(const std::uint8_t* data, std::size_t size, Fn&& fn) {
  std::size_t i = 0;
  while (i < size) {
    std::size_t n = data[i++];
    if (n == 0 || n > size - i) n = size - i;
    fn(std::string_view(reinterpret_cast<const char*>(data + i), n));
    i += n;
  }
}

// Nesting depth of a JSON value (a scalar is 0, [] is 1), computed with an
// explicit stack so that checking a deep document cannot itself recurse.
inline std::size_t json_depth(const rapidjson::Value& root) {
  std::size_t deepest = 0;
  std::vector<std::pair<const rapidjson::Value*, std::size_t>> todo{{&root, 0}};
  while (!todo.empty()) {
    const auto [v, depth] = todo.back();
    todo.pop_back();
    if (v->IsArray()) {
      if (depth + 1 > deepest) deepest = depth + 1;
      for (const auto& e : v->GetArray()) todo.emplace_back(&e, depth + 1);
    } else if (v->IsObject()) {
      if (depth + 1 > deepest) deepest = depth + 1;
      for (const auto& m : v->GetObject()) todo.emplace_back(&m.value, depth + 1);
    }
  }
  return deepest;
}

}  // namespace parley::fuzz
