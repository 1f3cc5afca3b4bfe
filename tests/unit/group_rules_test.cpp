#include <gtest/gtest.h>

#include "chat/groups.hpp"

namespace parley::chat {
namespace {

TEST(GroupRules, NamesAreTrimmedAndOneToSixtyFourCharacters) {
  EXPECT_EQ(group_name(std::string("  Team  ")).value(), "Team");
  EXPECT_EQ(group_name(std::string("\u00a0x\u3000")).value(), "x");  // Unicode spaces too
  const std::string sixty_four(64, 'n');
  EXPECT_EQ(group_name(" " + sixty_four + " ").value(), sixty_four);
  std::string accented;
  for (int i = 0; i < 64; ++i) accented += "\u00e9";  // 64 characters, 128 bytes
  EXPECT_TRUE(group_name(accented).has_value());
  for (const std::optional<std::string>& bad :
       {std::optional<std::string>(), std::optional<std::string>(""),
        std::optional<std::string>("   "), std::optional<std::string>(std::string(65, 'n')),
        std::optional<std::string>("\xff\xfe")}) {
    const auto r = group_name(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, core::ErrorCode::validation_failed);
    EXPECT_EQ(r.error().fields.front().field, "name");
  }
}

TEST(GroupRules, OtherMembersKeepTheOrderGivenWithoutDuplicatesOrTheCaller) {
  EXPECT_EQ(other_members("me", {"c", "b", "me", "c", "a", "b"}),
            (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_TRUE(other_members("me", {"me", "me"}).empty());
  EXPECT_TRUE(other_members("me", {}).empty());
}

}  // namespace
}  // namespace parley::chat
