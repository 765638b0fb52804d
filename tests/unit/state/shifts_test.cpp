#include "daemon/state/shifts.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

using namespace std::chrono_literals;

TimePoint at(const char* hhmm) {
  return *parse_rfc3339(std::string("2026-11-22T") + hhmm + ":00Z");
}

TEST(ShiftsTest, BackToBackIncidentsAreOneShift) {
  ShiftBook book;
  book.join("ana", at("01:00"));   // incident A
  book.join("ana", at("02:00"));   // incident B as well
  book.leave("ana", at("03:00"));  // A resolves
  EXPECT_EQ(book.worked("ana", at("04:00")), 3h);
  book.leave("ana", at("04:00"));  // B resolves
  book.join("ana", at("04:10"));   // a 10-minute break does not reset the clock
  EXPECT_EQ(book.worked("ana", at("05:00")), 4h);
}

TEST(ShiftsTest, ALongBreakEndsTheShift) {
  ShiftBook book(15min);
  book.join("ana", at("01:00"));
  book.leave("ana", at("02:00"));
  EXPECT_EQ(book.worked("ana", at("02:15")), 75min);  // within the break: still on shift
  EXPECT_EQ(book.worked("ana", at("02:16")), 0s);
  EXPECT_FALSE(book.on_shift("ana", at("02:16")));
  book.join("ana", at("03:00"));
  EXPECT_EQ(book.worked("ana", at("03:30")), 30min);
  EXPECT_EQ(book.worked("nobody", at("03:30")), 0s);
}

// A start given late (`shift start --ago`) for someone on shift moves the
// shift's start earlier; it never moves it later.
TEST(ShiftsTest, AnEarlierStartMovesTheShiftStart) {
  ShiftBook book;
  book.join("ana", at("02:00"));  // incident A
  book.join("ana", at("01:40"));  // incident B, taken 20 minutes before A
  EXPECT_EQ(book.worked("ana", at("03:00")), 80min);
  book.started_by("ana", at("01:00"));  // the role she holds, back-dated
  EXPECT_EQ(book.worked("ana", at("03:00")), 2h);
  book.started_by("ana", at("02:30"));
  EXPECT_EQ(book.worked("ana", at("03:00")), 2h);
  book.started_by("bo", at("02:30"));  // not in the book: a shift starts then
  EXPECT_EQ(book.worked("bo", at("03:00")), 30min);
}

TEST(ShiftsTest, SurvivesARestart) {
  ShiftBook book;
  book.join("ana", at("01:00"));
  book.find("ana")->warned = true;
  auto again = ShiftBook::parse(book.serialize(), 15min);
  EXPECT_EQ(again.worked("ana", at("04:00")), 3h);
  EXPECT_TRUE(again.find("ana")->warned);
  again.leave("ana", at("04:00"));
  EXPECT_FALSE(again.on_shift("ana", at("05:00")));
}

// The book does not grow with everyone who ever held a role: people idle
// since before the cutoff go; anyone holding a role, or on a short break, stays.
TEST(ShiftsTest, PeopleIdleSinceBeforeTheCutoffAreForgotten) {
  ShiftBook book;
  book.join("ana", at("01:00"));
  book.leave("ana", at("02:00"));  // idle since 02:00
  book.join("bo", at("01:00"));    // still holding a role
  book.join("cy", at("01:00"));
  book.leave("cy", at("05:50"));  // on a short break at the cutoff
  EXPECT_EQ(book.forget_idle_before(at("06:00")), 1u);
  EXPECT_EQ(book.find("ana"), nullptr);
  EXPECT_NE(book.find("bo"), nullptr);
  EXPECT_NE(book.find("cy"), nullptr);
  // Ana's next role starts a new shift, as it would have anyway.
  book.join("ana", at("07:00"));
  EXPECT_EQ(book.worked("ana", at("08:00")), 1h);
}

}  // namespace
}  // namespace calloutd
