// calloutctl's command lines: options with and without values, flags,
// positional words, and what a command prints for --help and a bad line.
#include <gtest/gtest.h>

#include <sstream>

#include "daemon/ctl/ctl.hpp"

namespace calloutd::ctl {
namespace {

TEST(CtlArgsTest, SplitsOptionsFlagsAndPositionalWords) {
  auto args = Args::parse({"start", "--person=Ana", "--role", "Secondary", "--dry", "am-1"},
                          {"person", "role"}, {"dry"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->positional, (std::vector<std::string>{"start", "am-1"}));
  EXPECT_EQ(args->get("person"), "Ana");
  EXPECT_EQ(args->get("role"), "Secondary");
  EXPECT_TRUE(args->has("dry"));
  EXPECT_EQ(args->get("absent"), std::nullopt);
}

TEST(CtlArgsTest, ARepeatedOptionKeepsEveryValueAndGetReturnsTheLast) {
  auto args = Args::parse({"--label", "a=1", "--label=b=2"}, {"label"});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->options.at("label"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(args->get("label"), "b=2");
}

TEST(CtlArgsTest, ADoubleDashAndSingleDashWordsArePositional) {
  auto args = Args::parse({"--", "-x"}, {});
  ASSERT_TRUE(args) << args.error();
  EXPECT_EQ(args->positional, (std::vector<std::string>{"--", "-x"}));
}

TEST(CtlArgsTest, NamesWhatIsWrongWithABadLine) {
  EXPECT_EQ(Args::parse({"--nope"}, {"person"}).error(), "unknown option --nope");
  EXPECT_EQ(Args::parse({"--person"}, {"person"}).error(), "--person needs a value");
  EXPECT_EQ(Args::parse({"--dry=yes"}, {}, {"dry"}).error(), "--dry takes no value");
}

class CtlCommandArgsTest : public ::testing::Test {
 protected:
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{out, err, "http://127.0.0.1:9", ""};
  int exit = -1;
};

TEST_F(CtlCommandArgsTest, HelpPrintsTheUsageAndExitsZero) {
  auto args = command_args({"--help"}, "demo", "Usage: demo\n", {}, ctx, exit);
  EXPECT_FALSE(args);
  EXPECT_EQ(exit, Exit::ok);
  EXPECT_EQ(out.str(), "Usage: demo\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(CtlCommandArgsTest, ABadLinePrintsTheProblemThenTheUsage) {
  auto args = command_args({"--bogus"}, "demo", "Usage: demo\n", {}, ctx, exit);
  EXPECT_FALSE(args);
  EXPECT_EQ(exit, Exit::usage_error);
  EXPECT_EQ(err.str(), "calloutctl demo: unknown option --bogus\nUsage: demo\n");
  EXPECT_EQ(out.str(), "");
}

TEST_F(CtlCommandArgsTest, AGoodLineComesBackWithItsFlags) {
  auto args = command_args({"x", "--all"}, "demo", "", {}, ctx, exit, {"all"});
  ASSERT_TRUE(args);
  EXPECT_TRUE(args->has("all"));
  EXPECT_EQ(args->positional, std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace calloutd::ctl
