#include "parley-bench/id_set.hpp"

#include <bit>
#include <utility>

namespace parley::bench {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The 64-bit finaliser of MurmurHash3: ids share their timestamp and
// process bytes, so the varying counter bytes must reach every bit.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

IdSet::IdSet(std::size_t initial_capacity)
    : slots_(std::bit_ceil(initial_capacity < 16 ? 16 : initial_capacity)) {}

bool IdSet::decode(std::string_view hex_id, Key& key) {
  if (hex_id.size() != 24) return false;
  std::uint64_t high = 0;
  std::uint32_t low = 0;
  for (std::size_t i = 0; i < 24; ++i) {
    const int v = hex_value(hex_id[i]);
    if (v < 0) return false;
    if (i < 16) {
      high = (high << 4) | static_cast<std::uint64_t>(v);
    } else {
      low = (low << 4) | static_cast<std::uint32_t>(v);
    }
  }
  key.high = high;
  key.low = low;
  return !key.empty();
}

std::size_t IdSet::slot_of(const Key& key) const {
  return static_cast<std::size_t>(
             mix(key.high ^ (std::uint64_t{key.low} * 0x9e3779b97f4a7c15ULL))) &
         (slots_.size() - 1);
}

IdSet::Insert IdSet::insert(std::string_view hex_id) {
  Key key;
  if (!decode(hex_id, key)) return Insert::malformed;
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(key);; i = (i + 1) & mask) {
    if (slots_[i].empty()) {
      slots_[i] = key;
      ++size_;
      return Insert::added;
    }
    if (slots_[i] == key) return Insert::present;
  }
}

bool IdSet::contains(std::string_view hex_id) const {
  Key key;
  if (!decode(hex_id, key)) return false;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(key);; i = (i + 1) & mask) {
    if (slots_[i].empty()) return false;
    if (slots_[i] == key) return true;
  }
}

void IdSet::grow() {
  std::vector<Key> old(slots_.size() * 2);
  std::swap(old, slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Key& key : old) {
    if (key.empty()) continue;
    std::size_t i = slot_of(key);
    while (!slots_[i].empty()) i = (i + 1) & mask;
    slots_[i] = key;
  }
}

}  // namespace parley::bench
