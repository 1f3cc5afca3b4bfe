#include "parley-bench/histogram.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "parley-bench/id_set.hpp"
#include "parley-bench/seq_bits.hpp"

namespace parley::bench {
namespace {

TEST(BenchHistogram, BucketsAreContiguousAndTight) {
  // Every value maps into a bucket whose bound is at or above it and
  // within 1/128 of it.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    const std::size_t b = Histogram::bucket_of(v);
    ASSERT_LT(b, Histogram::kBucketCount);
    const std::uint64_t high = Histogram::bucket_high(b);
    ASSERT_GE(high, v);
    ASSERT_LE(high - v, v / 128) << v;
    if (b > 0) {
      ASSERT_LT(Histogram::bucket_high(b - 1), v);
    }
  }
  EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::kBucketCount - 1);
  EXPECT_EQ(Histogram::bucket_high(Histogram::kBucketCount - 1), UINT64_MAX);
  for (std::uint64_t v = 0; v < 256; ++v)
    EXPECT_EQ(Histogram::bucket_high(Histogram::bucket_of(v)), v);
}

TEST(BenchHistogram, PercentilesAgainstSortedSamples) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(13.0, 1.0);  // around 0.4 ms in ns
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(latency(rng));
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100 * samples.size())) - 1;
    const std::uint64_t exact = samples[rank];
    const std::uint64_t got = h.percentile(p);
    EXPECT_GE(got, exact) << p;
    EXPECT_LE(got - exact, exact / 128 + 1) << p;
  }
  EXPECT_EQ(h.percentile(100), samples.back());
  EXPECT_EQ(h.max(), samples.back());
  EXPECT_EQ(h.min(), samples.front());
  EXPECT_EQ(h.count(), samples.size());
}

TEST(BenchHistogram, MergeAndEmpty) {
  Histogram a;
  Histogram b;
  EXPECT_EQ(a.percentile(50), 0U);
  EXPECT_EQ(a.max(), 0U);
  for (std::uint64_t v = 1; v <= 100; ++v) a.record(v);
  for (std::uint64_t v = 101; v <= 200; ++v) b.record(v);
  a.merge(b);
  EXPECT_EQ(a.count(), 200U);
  EXPECT_EQ(a.percentile(50), 100U);
  EXPECT_EQ(a.max(), 200U);
  EXPECT_EQ(a.min(), 1U);
}

TEST(BenchIdSet, FindsRepeatsAcrossGrowth) {
  IdSet set(16);
  auto id = [](std::uint32_t n) {
    std::array<char, 25> buf{};
    std::snprintf(buf.data(), buf.size(), "65f0a1b2c3d4e5f6a7%06x", n);
    return std::string(buf.data());
  };
  for (std::uint32_t n = 0; n < 5000; ++n) ASSERT_EQ(set.insert(id(n)), IdSet::Insert::added);
  EXPECT_EQ(set.size(), 5000U);
  for (std::uint32_t n = 0; n < 5000; ++n) ASSERT_EQ(set.insert(id(n)), IdSet::Insert::present);
  EXPECT_TRUE(set.contains(id(4999)));
  EXPECT_FALSE(set.contains(id(5000)));
  EXPECT_EQ(set.insert("65F0A1B2C3D4E5F6A7B8C9D0"), IdSet::Insert::malformed);  // upper case
  EXPECT_EQ(set.insert("65f0a1b2c3d4e5f6a7b8c9d"), IdSet::Insert::malformed);
  EXPECT_EQ(set.insert("000000000000000000000000"), IdSet::Insert::malformed);
  EXPECT_EQ(set.size(), 5000U);
}

TEST(BenchSeqBits, SetTestAndGrowth) {
  SeqBits bits;
  EXPECT_FALSE(bits.test(0));
  EXPECT_TRUE(bits.set(0));
  EXPECT_FALSE(bits.set(0));
  EXPECT_TRUE(bits.set(100000));
  EXPECT_TRUE(bits.test(100000));
  EXPECT_FALSE(bits.test(99999));
  EXPECT_FALSE(bits.test(1ULL << 40));
}

}  // namespace
}  // namespace parley::bench
