#include "parley-bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace parley::bench {

Histogram::Histogram() : counts_(kBucketCount, 0) {}

std::size_t Histogram::bucket_of(std::uint64_t value) {
  // Values below 2^(bits+1) get a bucket each; above, the shift keeps the
  // top bits+1 significant bits, whose first is always 1.
  const auto width = static_cast<unsigned>(std::bit_width(value));
  const unsigned shift = width > kSubBucketBits + 1 ? width - (kSubBucketBits + 1) : 0;
  return (std::size_t{shift} << kSubBucketBits) + static_cast<std::size_t>(value >> shift);
}

std::uint64_t Histogram::bucket_high(std::size_t index) {
  constexpr std::size_t kExact = std::size_t{1} << (kSubBucketBits + 1);
  if (index < kExact) return index;
  const std::size_t shift = (index >> kSubBucketBits) - 1;
  const std::uint64_t sub = index - (shift << kSubBucketBits);
  return ((sub + 1) << shift) - 1;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

std::uint64_t Histogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percent, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_high(i), max_);
  }
  return max_;
}

}  // namespace parley::bench
