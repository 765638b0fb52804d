#include "daemon/config/rota.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "daemon/base/timezone.hpp"
#include "daemon/config/config.hpp"

namespace calloutd {
namespace {

using namespace std::chrono_literals;

TimePoint utc(const std::string& rfc3339) {
  return *parse_rfc3339(rfc3339);
}

TimeZone zone(const std::string& name) {
  auto z = TimeZone::load(name);
  EXPECT_TRUE(z.ok()) << z.error();
  return z.ok() ? *z : TimeZone::utc();
}

TEST(TimeZoneTest, LondonChangesAtOneInTheMorningUtc) {
  auto london = zone("Europe/London");
  EXPECT_EQ(london.utc_offset(utc("2026-03-29T00:59:59Z")), 0s);
  EXPECT_EQ(london.utc_offset(utc("2026-03-29T01:00:00Z")), 1h);
  EXPECT_EQ(london.utc_offset(utc("2026-10-25T00:59:59Z")), 1h);
  EXPECT_EQ(london.utc_offset(utc("2026-10-25T01:00:00Z")), 0s);
}

TEST(TimeZoneTest, FooterRuleCoversYearsAfterTheTable) {
  // Debian's files list transitions up to 2037; later years come from the
  // POSIX rule in the footer, northern and southern hemisphere alike.
  auto london = zone("Europe/London");
  EXPECT_EQ(london.utc_offset(utc("2100-07-01T12:00:00Z")), 1h);
  EXPECT_EQ(london.utc_offset(utc("2100-01-01T12:00:00Z")), 0s);
  auto sydney = zone("Australia/Sydney");
  EXPECT_EQ(sydney.utc_offset(utc("2100-01-01T12:00:00Z")), 11h);
  EXPECT_EQ(sydney.utc_offset(utc("2100-07-01T12:00:00Z")), 10h);
}

TEST(TimeZoneTest, AgreesWithTheCLibraryHourByHour) {
  // glibc reads the same files with its own code: every hour of 2024-2027 and
  // a sample of 2038-2100 (footer rules) must give the same offset.
  for (const char* name :
       {"Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"}) {
    auto z = zone(name);
    setenv("TZ", name, 1);
    tzset();
    auto check = [&](std::int64_t s) {
      std::time_t tt = s;
      std::tm tm{};
      localtime_r(&tt, &tm);
      ASSERT_EQ(z.utc_offset(TimePoint{std::chrono::seconds{s}}).count(), tm.tm_gmtoff)
          << name << " at " << format_utc(TimePoint{std::chrono::seconds{s}});
    };
    // The first mismatch ends the test: one failure, not thousands.
    for (std::int64_t s = 1704067200; s < 1830297600 && !HasFatalFailure(); s += 3600) {
      check(s);
    }
    for (std::int64_t s = 2145916800; s < 4102444800 && !HasFatalFailure(); s += 86400 * 7 + 3599) {
      check(s);
    }
    if (HasFatalFailure()) {
      break;
    }
  }
  unsetenv("TZ");
  tzset();
}

TEST(TimeZoneTest, ParsesPosixRules) {
  auto rule = PosixTz::parse("<+0330>-3:30");
  ASSERT_TRUE(rule.ok()) << rule.error();
  EXPECT_EQ(rule->std_offset, 3h + 30min);
  EXPECT_FALSE(rule->has_dst);
  rule = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(rule.ok()) << rule.error();
  EXPECT_EQ(rule->dst_offset, -4h);
  EXPECT_EQ(rule->offset_at(utc("2030-07-01T00:00:00Z").time_since_epoch() / 1s), -4h);
  rule = PosixTz::parse("XXX3YYY,J60/25,300");  // Julian day, times past 24h
  ASSERT_TRUE(rule.ok()) << rule.error();
  EXPECT_EQ(rule->start.kind, 'J');
  EXPECT_EQ(rule->start.time, 25h);
  EXPECT_FALSE(PosixTz::parse("GMT0BST,M13.5.0,M10.5.0").ok());
  EXPECT_FALSE(PosixTz::parse("G0").ok());
}

TEST(TimeZoneTest, RefusesBadNamesAndFiles) {
  EXPECT_FALSE(TimeZone::load("../../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::load("/etc/localtime").ok());
  auto missing = TimeZone::load("Mars/Olympus_Mons");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("unknown time zone \"Mars/Olympus_Mons\""), std::string::npos);
  // Files under /usr/share/zoneinfo that are not zones of the database.
  EXPECT_FALSE(TimeZone::load("zone1970.tab").ok());
  EXPECT_FALSE(TimeZone::load("posix/Europe/London").ok());
}

TEST(TimeZoneTest, EveryZoneAgreesWithTheCLibrary) {
  // Every zone of zone1970.tab, weekly from 2024 to 2100 (an hour later each
  // week): the tables date/tz reads and the footer rules after them. Greenland's
  // rule ("M3.5.0/-1") is one that date/tz's own POSIX reader would refuse.
  std::ifstream tab("/usr/share/zoneinfo/zone1970.tab");
  ASSERT_TRUE(tab) << "no /usr/share/zoneinfo/zone1970.tab";
  int zones = 0;
  for (std::string line; std::getline(tab, line) && !HasFatalFailure();) {
    std::istringstream fields(line);
    std::string codes, coordinates, name;
    if (line.empty() || line[0] == '#' || !(fields >> codes >> coordinates >> name)) {
      continue;
    }
    auto z = TimeZone::load(name);
    ASSERT_TRUE(z.ok()) << z.error();
    ++zones;
    setenv("TZ", name.c_str(), 1);
    tzset();
    for (std::int64_t s = 1704067200; s < 4102444800; s += 86400 * 7 + 3600) {
      std::time_t tt = s;
      std::tm tm{};
      localtime_r(&tt, &tm);
      ASSERT_EQ(z->utc_offset(TimePoint{std::chrono::seconds{s}}).count(), tm.tm_gmtoff)
          << name << " at " << format_utc(TimePoint{std::chrono::seconds{s}});
    }
  }
  EXPECT_GT(zones, 300);
  unsetenv("TZ");
  tzset();
}

Rota weekly_london() {
  Rota r;
  r.name = "databases";
  r.zone = zone("Europe/London");
  r.start = std::chrono::local_days{std::chrono::year{2026} / 3 / 23};  // a Monday
  r.handover_at = 9h;
  r.every_days = 7;
  r.primary = {"ana", "ben", "cai"};
  return r;
}

TEST(RotaTest, TurnsAtTheLocalHandoverTime) {
  auto r = weekly_london();
  EXPECT_EQ(on_call(r, utc("2026-03-23T09:00:00Z")).primary, "ana");  // GMT: 09:00 local
  EXPECT_EQ(on_call(r, utc("2026-03-23T09:00:00Z")).secondary, "ben");
  EXPECT_EQ(on_call(r, utc("2026-03-23T08:59:59Z")).primary, "cai");  // the turn before
  // Clocks went forward on 29 March: the next 09:00 local is 08:00 UTC.
  EXPECT_EQ(on_call(r, utc("2026-03-30T07:59:59Z")).primary, "ana");
  EXPECT_EQ(on_call(r, utc("2026-03-30T08:00:00Z")).primary, "ben");
  EXPECT_EQ(on_call(r, utc("2026-03-30T08:00:00Z")).secondary, "cai");
}

TEST(RotaTest, TurnsAtTheLocalHandoverTimeAcrossTheAutumnChange) {
  auto r = weekly_london();
  r.every_days = 1;
  // 24 October 2026 is BST (09:00 local = 08:00 UTC); 26 October is GMT.
  auto on_24th = on_call(r, utc("2026-10-24T08:00:00Z")).primary;
  EXPECT_NE(on_call(r, utc("2026-10-24T07:59:59Z")).primary, on_24th);
  auto on_26th = on_call(r, utc("2026-10-26T09:00:00Z")).primary;
  EXPECT_EQ(on_call(r, utc("2026-10-26T08:59:59Z")).primary,
            on_call(r, utc("2026-10-25T09:00:00Z")).primary);
  EXPECT_NE(on_call(r, utc("2026-10-26T08:59:59Z")).primary, on_26th);
  // 216 days after the start, 216 % 3 == 0: ana's turn again on the 25th.
  EXPECT_EQ(on_call(r, utc("2026-10-25T12:00:00Z")).primary, "ana");
}

TEST(RotaTest, ExplicitSecondariesBeforeTheStartAndAloneOnTheRota) {
  auto r = weekly_london();
  r.secondary = {"dee", "eve"};
  auto week2 = on_call(r, utc("2026-03-31T12:00:00Z"));
  EXPECT_EQ(week2.primary, "ben");
  EXPECT_EQ(week2.secondary, "eve");
  // The week before the start is the last person's (the rota runs backwards).
  EXPECT_EQ(on_call(r, utc("2026-03-17T12:00:00Z")).primary, "cai");
  EXPECT_EQ(on_call(r, utc("2026-03-10T12:00:00Z")).primary, "ben");
  r.primary = {"ana"};
  r.secondary.clear();
  EXPECT_EQ(on_call(r, utc("2026-05-01T12:00:00Z")).secondary, "");
}

TEST(RotaTest, FirstRotaCoveringTheTechnologyWins) {
  std::vector<Rota> rotas(2);
  rotas[0].name = "databases";
  rotas[0].technologies = {"mysql", "postgres"};
  rotas[1].name = "everything else";
  EXPECT_EQ(rota_for(rotas, "mysql")->name, "databases");
  EXPECT_EQ(rota_for(rotas, "kafka")->name, "everything else");
  rotas.pop_back();
  EXPECT_EQ(rota_for(rotas, "kafka"), nullptr);
}

TEST(RotaConfigTest, ReadsARota) {
  auto loaded = parse_config(R"(rota:
  - name: databases
    technologies: [mysql, postgres]
    time_zone: Europe/London
    start: 2026-03-23
    handover_at: "09:30"
    every: 14d
    primary: [ana, ben]
    secondary: [cai]
)",
                             "t.yml", ".");
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front();
  ASSERT_EQ(loaded.config.rotas.size(), 1u);
  const auto& r = loaded.config.rotas.front();
  EXPECT_EQ(r.zone.name(), "Europe/London");
  EXPECT_EQ(r.handover_at, 9h + 30min);
  EXPECT_EQ(r.every_days, 14);
  EXPECT_EQ(r.start, std::chrono::local_days{std::chrono::year{2026} / 3 / 23});
  EXPECT_EQ(on_call(r, utc("2026-04-06T08:29:59Z")).primary, "ana");
  EXPECT_EQ(on_call(r, utc("2026-04-06T08:30:00Z")).primary, "ben");
}

TEST(RotaConfigTest, ErrorsNameTheLineAndTheProblem) {
  auto loaded = parse_config(R"(rota:
  - name: databases
    technologies: [MySQL]
    time_zone: Europe/Atlantis
    start: 23/03/2026
    handover_at: "9am"
    every: 36h
    primary: []
  - name: nobody
)",
                             "t.yml", ".");
  std::vector<std::string> expected{
      "t.yml:3: rota[0].technologies[0]: \"MySQL\" is not a slug (use \"mysql\")",
      "t.yml:4: rota[0].time_zone: unknown time zone \"Europe/Atlantis\" (no "
      "/usr/share/zoneinfo/Europe/Atlantis; is the tzdata package installed?)",
      "t.yml:5: rota[0].start: \"23/03/2026\" is not a date (YYYY-MM-DD)",
      "t.yml:6: rota[0].handover_at: \"9am\" is not a time of day (HH:MM)",
      "t.yml:7: rota[0].every: a rota turns in whole days (1d, 7d, 14d)",
      "t.yml:8: rota[0].primary: expected a non-empty list of names",
      "t.yml:9: rota[1]: missing start (the YYYY-MM-DD the first person's turn begins)",
      "t.yml:9: rota[1]: missing primary (the people who take Operations in turn)",
  };
  EXPECT_EQ(loaded.errors, expected);
}

}  // namespace
}  // namespace calloutd
