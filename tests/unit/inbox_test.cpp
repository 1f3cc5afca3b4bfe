#include "net/inbox.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace parley::net {
namespace {

TEST(Inbox, ABurstOfPostsIsOneHandlerRunInOrder) {
  boost::asio::io_context ctx;
  Inbox& inbox = Inbox::of(ctx);
  std::vector<int> ran;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) inbox.post([&ran, i] { ran.push_back(i); });
  });
  producer.join();
  EXPECT_TRUE(ran.empty());
  EXPECT_EQ(ctx.poll(), 1U);  // one drain, not one handler per post
  ASSERT_EQ(ran.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[static_cast<std::size_t>(i)], i);
}

TEST(Inbox, WhatADrainPostsRunsInTheNextDrain) {
  boost::asio::io_context ctx;
  Inbox& inbox = Inbox::of(ctx);
  std::vector<int> ran;
  inbox.post([&] {
    ran.push_back(1);
    inbox.post([&] { ran.push_back(3); });
  });
  inbox.post([&] { ran.push_back(2); });
  EXPECT_EQ(ctx.poll(), 2U);
  EXPECT_EQ(ran, (std::vector{1, 2, 3}));
}

TEST(Inbox, OnePerContext) {
  boost::asio::io_context a;
  boost::asio::io_context b;
  EXPECT_EQ(&Inbox::of(a), &Inbox::of(a));
  EXPECT_NE(&Inbox::of(a), &Inbox::of(b));
}

TEST(Inbox, QueuedFunctionsAreReleasedWithTheContext) {
  auto held = std::make_shared<int>(7);
  {
    boost::asio::io_context ctx;
    Inbox::of(ctx).post([held] {});
    EXPECT_EQ(held.use_count(), 2);
  }
  EXPECT_EQ(held.use_count(), 1);
}

}  // namespace
}  // namespace parley::net
