// The logger's safety net: however long a field value, a line stays short.
#include "daemon/base/log.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

std::string logged(const std::string& value) {
  ::testing::internal::CaptureStderr();
  log::error("request refused", {{"error", value}});
  return ::testing::internal::GetCapturedStderr();
}

TEST(LogTest, ShortValuesAreWrittenWhole) {
  auto line = logged("bad \"status\"");
  EXPECT_NE(line.find(" level=error msg=\"request refused\" error=\"bad \\\"status\\\"\"\n"),
            std::string::npos)
      << line;
}

TEST(LogTest, LongValuesAreCutToOneKibibyteWithTheirSize) {
  auto line = logged(std::string(1'000'000, 'x'));
  EXPECT_LT(line.size(), 1200u);
  EXPECT_NE(line.find(" error=\"" + std::string(1024, 'x') + "... (1000000 bytes)\"\n"),
            std::string::npos)
      << line.substr(0, 200);
}

TEST(LogTest, CutsNeverSplitACharacter) {
  // "xx" then 3-byte characters: byte 1024 falls inside one.
  std::string value = "xx";
  for (int i = 0; i < 1000; ++i) {
    value += "\xE2\x82\xAC";  // €
  }
  auto line = logged(value);
  auto at = line.find(" error=\"") + 8;
  auto cut = line.find("... (3002 bytes)");
  ASSERT_NE(cut, std::string::npos) << line;
  // 2 + 340 whole characters = 1022 bytes: the 341st would pass the limit.
  EXPECT_EQ(line.substr(at, cut - at), value.substr(0, 2 + 340 * 3));
}

}  // namespace
}  // namespace calloutd
