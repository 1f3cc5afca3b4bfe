// A growable bit set indexed by a message's sequence number within one
// sender: which numbers were acknowledged, which received. Grows by
// doubling, so allocation is amortised, never per message. One writer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace parley::bench {

class SeqBits {
 public:
  // Sets bit `i`; returns false if it was already set.
  bool set(std::uint64_t i) {
    const std::size_t word = static_cast<std::size_t>(i >> 6);
    if (word >= words_.size()) words_.resize(std::max<std::size_t>(words_.size() * 2, word + 1));
    const std::uint64_t bit = std::uint64_t{1} << (i & 63);
    const bool was = (words_[word] & bit) != 0;
    words_[word] |= bit;
    return !was;
  }
  bool test(std::uint64_t i) const {
    const std::size_t word = static_cast<std::size_t>(i >> 6);
    return word < words_.size() && (words_[word] & (std::uint64_t{1} << (i & 63))) != 0;
  }

 private:
  std::vector<std::uint64_t> words_;
};

}  // namespace parley::bench
