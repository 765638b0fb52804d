// Where a group's state file lives (the shards, and the flat layout of
// earlier versions still read) and when it may be pruned.
#include "daemon/state/group_state.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::at;
using namespace std::chrono_literals;

TEST(GroupStateTest, StatePathIsShardedByTheIdsFirstTwoHexDigits) {
  EXPECT_EQ(state_path("71995bb45926aa1b"), ".calloutd/groups/71/71995bb45926aa1b.json");
  EXPECT_EQ(state_path("pd-bce23533d6573672"), ".calloutd/groups/bc/pd-bce23533d6573672.json");
  EXPECT_EQ(state_path("man-0a1b2c3d4e"), ".calloutd/groups/0a/man-0a1b2c3d4e.json");
  EXPECT_EQ(flat_state_path("71995bb45926aa1b"), ".calloutd/groups/71995bb45926aa1b.json");
}

TEST(GroupStateTest, AnIdWithoutHexStillGetsAStableShard) {
  auto path = state_path("odd-zz");
  EXPECT_EQ(path, state_path("odd-zz"));
  EXPECT_TRUE(path.starts_with(".calloutd/groups/")) << path;
  EXPECT_EQ(state_id_of_path(path), "odd-zz");
}

TEST(GroupStateTest, StateIdOfPathReadsBothLayouts) {
  EXPECT_EQ(state_id_of_path(".calloutd/groups/71/71995bb45926aa1b.json"), "71995bb45926aa1b");
  EXPECT_EQ(state_id_of_path(".calloutd/groups/71995bb45926aa1b.json"), "71995bb45926aa1b");
  EXPECT_EQ(state_id_of_path(".calloutd/groups/bc/pd-bce23533d6573672.json"),
            "pd-bce23533d6573672");
}

TEST(GroupStateTest, StateIdOfPathRefusesOtherFiles) {
  EXPECT_EQ(state_id_of_path(".calloutd/shifts.json"), std::nullopt);
  EXPECT_EQ(state_id_of_path(".calloutd/groups/71/71995bb45926aa1b.txt"), std::nullopt);
  // A file in the wrong shard is not where the daemon reads or writes it.
  EXPECT_EQ(state_id_of_path(".calloutd/groups/00/71995bb45926aa1b.json"), std::nullopt);
  EXPECT_EQ(state_id_of_path(".calloutd/groups/71/x/71995bb45926aa1b.json"), std::nullopt);
  EXPECT_EQ(state_id_of_path("api/x/callout.md"), std::nullopt);
}

TEST(GroupStateTest, RetentionIsTheLongestOfReopenWindowRedeliveryAndConfig) {
  EXPECT_EQ(prune_retention(1h, 720h), 720h);
  EXPECT_EQ(prune_retention(1h, 0s), 48h);  // PagerDuty's redelivery window at least
  EXPECT_EQ(prune_retention(1000h, 720h), 1000h);
}

TEST(GroupStateTest, OnlyGroupsResolvedLongerAgoThanTheRetentionArePrunable) {
  GroupState s;
  s.resolved = true;
  s.resolved_at = at("2026-10-01T00:00:00Z");
  EXPECT_TRUE(prunable(s, at("2026-11-01T00:00:00Z"), 720h));   // 31 days
  EXPECT_FALSE(prunable(s, at("2026-10-31T00:00:00Z"), 720h));  // exactly 30 days
  GroupState open = s;
  open.resolved = false;
  open.resolved_at = {};
  EXPECT_FALSE(prunable(open, at("2027-11-01T00:00:00Z"), 720h));
  GroupState undated = s;
  undated.resolved_at = {};  // resolved, but when is unknown: kept
  EXPECT_FALSE(prunable(undated, at("2027-11-01T00:00:00Z"), 720h));
}

}  // namespace
}  // namespace calloutd
