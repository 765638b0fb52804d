#include "daemon/app/cli.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

TEST(CliTest, PrometheusStyleFlags) {
  auto f = parse_flags({"--config.file=/etc/c.yml", "--web.listen-address", "0.0.0.0:1",
                        "--repo.path=/r", "--log.level=debug"});
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->config_file, "/etc/c.yml");
  EXPECT_EQ(f->listen_address, "0.0.0.0:1");
  EXPECT_EQ(f->repo_path, "/r");
  EXPECT_EQ(f->log_level, "debug");
  EXPECT_FALSE(f->check_config);
  auto none = parse_flags({});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->config_file);
  EXPECT_FALSE(none->web_config_file);
  EXPECT_FALSE(none->enable_lifecycle);
}

TEST(CliTest, WebConfigAndLifecycleFlags) {
  auto f = parse_flags({"--web.config.file=/etc/calloutd/web.yml", "--web.enable-lifecycle"});
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->web_config_file, "/etc/calloutd/web.yml");
  EXPECT_TRUE(f->enable_lifecycle);
  EXPECT_EQ(parse_flags({"--web.enable-lifecycle=true"}).error(),
            "flag --web.enable-lifecycle takes no value");
}

TEST(CliTest, ErrorsNameTheFlag) {
  EXPECT_EQ(parse_flags({"--bogus"}).error(), "unknown flag --bogus (see --help)");
  EXPECT_EQ(parse_flags({"--bogus=1"}).error(), "unknown flag --bogus (see --help)");
  EXPECT_EQ(parse_flags({"--repo.path"}).error(), "flag --repo.path needs a value");
  EXPECT_EQ(parse_flags({"--log.level=loud"}).error(),
            "flag --log.level: \"loud\" is not one of debug, info, warn, error");
  EXPECT_EQ(parse_flags({"--check-config"}).error(), "--check-config needs --config.file=PATH");
  EXPECT_EQ(parse_flags({"stray"}).error(), "unexpected argument \"stray\" (see --help)");
  EXPECT_EQ(parse_flags({"--help=yes"}).error(), "flag --help takes no value");
}

}  // namespace
}  // namespace calloutd
