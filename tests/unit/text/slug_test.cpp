#include "daemon/text/slug.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

namespace calloutd {
namespace {

TEST(SlugTest, KebabCasesAlertNames) {
  EXPECT_EQ(kebab_slug("HighReplicationLag"), "high-replication-lag");
  EXPECT_EQ(kebab_slug("HTTPErrorRate"), "http-error-rate");
  EXPECT_EQ(kebab_slug("ICMP ping failed"), "icmp-ping-failed");
  EXPECT_EQ(kebab_slug("KubePodCrashLooping"), "kube-pod-crash-looping");
  EXPECT_EQ(kebab_slug("disk_usage_90pct"), "disk-usage-90pct");
  EXPECT_EQ(kebab_slug("Node5xxErrors"), "node5xx-errors");
}

TEST(SlugTest, NothingEscapesTheRepository) {
  for (const char* hostile :
       {"../../etc/passwd", "/abs/path", ".hidden", "a/../../b", "..", "", "\n#\x01|<b>",
        "-leading-", "C:\\windows", "\xE2\x80\x94\xF0\x9F\x94\xA5"}) {
    auto s = kebab_slug(hostile);
    EXPECT_TRUE(RE2::FullMatch(s, "[a-z0-9]([a-z0-9-]*[a-z0-9])?")) << hostile << " -> " << s;
  }
  EXPECT_EQ(kebab_slug("../../etc/passwd"), "etc-passwd");
  EXPECT_EQ(kebab_slug("", "unknown"), "unknown");
  EXPECT_LE(kebab_slug(std::string(500, 'a')).size(), 64u);
}

TEST(SlugTest, TechnologiesStayOneWord) {
  EXPECT_EQ(technology_slug("MySQL"), "mysql");
  EXPECT_EQ(technology_slug("api-server"), "api-server");
  EXPECT_EQ(technology_slug("Kube State"), "kube-state");
  EXPECT_EQ(technology_slug("../x"), "x");
  EXPECT_EQ(technology_slug("!!!"), "unclassified");
}

}  // namespace
}  // namespace calloutd
