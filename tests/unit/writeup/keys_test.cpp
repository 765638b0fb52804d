// The keys the code names (writeup/keys.hpp) are the keys of the shipped
// templates, and the edits the scanner hands on are the ones the observation
// receiver accepts: a key renamed on one side only fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"
#include "receivers/observation.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

std::vector<std::string> template_headings(const std::string& file) {
  return markdown::headings(
      testing::read_file(std::string(CALLOUTD_SOURCE_DIR) + "/templates/" + file));
}

bool has(const std::vector<std::string>& headings, const std::string& key) {
  return std::find(headings.begin(), headings.end(), key) != headings.end();
}

TEST(KeysTest, EveryKeyIsAHeadingOfTheTemplateItBelongsTo) {
  auto callout = template_headings(std::string(layout::k_callout_file));
  auto postmortem = template_headings(std::string(layout::k_postmortem_file));
  ASSERT_FALSE(callout.empty());
  ASSERT_FALSE(postmortem.empty());
  for (const char* key :
       {keys::k_incident_number, keys::k_severity, keys::k_summary, keys::k_status,
        keys::k_engineer_updates, keys::k_team_roles, keys::k_incident_timeline,
        keys::k_supporting_information, keys::k_alert_labels}) {
    EXPECT_TRUE(has(callout, key)) << key << " is not a heading of templates/callout.md";
  }
  for (const char* key :
       {keys::k_incident_number, keys::k_status, keys::k_summary, keys::k_resolution,
        keys::k_action_items, keys::k_timeline, keys::k_supporting_information, keys::k_review}) {
    EXPECT_TRUE(has(postmortem, key)) << key << " is not a heading of templates/postmortem.md";
  }
}

TEST(KeysTest, TheObservedKeysAreTheOnesTheObservationReceiverAccepts) {
  const std::string callout(layout::k_callout_file);
  const std::string postmortem(layout::k_postmortem_file);
  for (const auto& [file, key] :
       std::vector<std::pair<std::string, std::string>>{{callout, keys::k_status},
                                                        {callout, keys::k_severity},
                                                        {callout, keys::k_team_roles},
                                                        {postmortem, keys::k_status}}) {
    FileObservation o{"api/latency-2026-11-22", file, key, "resolved", {}, "abc", {}};
    EXPECT_TRUE(receivers::parse_observation(receivers::observation_record(o)).ok())
        << file << " " << key;
  }
  FileObservation other{"api/latency-2026-11-22", callout, keys::k_summary, "x", {}, "abc", {}};
  EXPECT_FALSE(receivers::parse_observation(receivers::observation_record(other)).ok());
}

}  // namespace
}  // namespace calloutd
