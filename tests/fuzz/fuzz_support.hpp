// Helpers shared by the libFuzzer targets in this folder.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// Distance between two finite doubles in units in the last place.
inline std::uint64_t ulps_apart(double a, double b) {
  // Maps the bit patterns onto one monotonic integer line (-0 and +0 meet).
  auto line = [](double d) {
    const auto bits = std::bit_cast<std::int64_t>(d);
    return bits < 0 ? -(bits & INT64_MAX) : bits;
  };
  const std::int64_t x = line(a), y = line(b);
  return x > y ? static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(y)
               : static_cast<std::uint64_t>(y) - static_cast<std::uint64_t>(x);
}

// RapidJSON's default number parsing (the one core::parse_json uses; its
// full-precision mode has known bugs in Debian's 1.1.0, Tencent/rapidjson
// #1249 and #2326) is documented as at most 3 ulp off, so a double written
// out and read back may move by that much.
inline constexpr std::uint64_t kMaxDoubleUlps = 3;

// Whether two documents hold the same data, members in the same order.
// Stricter than rapidjson's operator== (which matches object members by
// name, so an object with a repeated key is not even equal to itself) and
// iterative, so it cannot recurse however deep its input; doubles may
// differ by kMaxDoubleUlps (see above).
inline bool json_equal(const rapidjson::Value& a, const rapidjson::Value& b) {
  std::vector<std::pair<const rapidjson::Value*, const rapidjson::Value*>> todo{{&a, &b}};
  while (!todo.empty()) {
    const auto [x, y] = todo.back();
    todo.pop_back();
    if (x->GetType() != y->GetType()) return false;
    if (x->IsNumber()) {
      if (x->IsDouble() || y->IsDouble()) {
        if (!x->IsDouble() || !y->IsDouble()) return false;
        if (ulps_apart(x->GetDouble(), y->GetDouble()) > kMaxDoubleUlps) return false;
      } else if (*x != *y) {
        return false;
      }
    } else if (x->IsString()) {
      if (x->GetStringLength() != y->GetStringLength() ||
          std::memcmp(x->GetString(), y->GetString(), x->GetStringLength()) != 0) {
        return false;
      }
    } else if (x->IsArray()) {
      if (x->Size() != y->Size()) return false;
      for (rapidjson::SizeType i = 0; i < x->Size(); ++i) todo.emplace_back(&(*x)[i], &(*y)[i]);
    } else if (x->IsObject()) {
      if (x->MemberCount() != y->MemberCount()) return false;
      for (auto i = x->MemberBegin(), j = y->MemberBegin(); i != x->MemberEnd(); ++i, ++j) {
        todo.emplace_back(&i->name, &j->name);
        todo.emplace_back(&i->value, &j->value);
      }
    } else if (*x != *y) {  // null, true, false
      return false;
    }
  }
  return true;
}

}  // namespace parley::fuzz
