// A set of message ids (24 lowercase hex characters, 12 bytes), to find a
// message delivered twice. Open addressing with linear probing over a
// power-of-two table kept at most half full: an insert is a hash and a
// probe or two; the table grows by doubling, so allocation is amortised,
// never per message. One writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace parley::bench {

class IdSet {
 public:
  enum class Insert { added, present, malformed };

  explicit IdSet(std::size_t initial_capacity = 1024);

  Insert insert(std::string_view hex_id);
  bool contains(std::string_view hex_id) const;
  std::size_t size() const { return size_; }

 private:
  struct Key {
    std::uint64_t high = 0;
    std::uint32_t low = 0;
    // All-zero is the empty slot: no id has a zero timestamp.
    bool empty() const { return high == 0 && low == 0; }
    bool operator==(const Key&) const = default;
  };
  static bool decode(std::string_view hex_id, Key& key);
  std::size_t slot_of(const Key& key) const;
  void grow();

  std::vector<Key> slots_;
  std::size_t size_ = 0;
};

}  // namespace parley::bench
