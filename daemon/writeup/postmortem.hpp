// Reading what people wrote: the Action Items and Status of a postmortem.md,
// and the Status, Severity and timeline of a callout.md, as GitHub renders
// them (cmark-gfm). Whatever cannot be read is reported as a Problem with its
// file and line, never silently counted as nothing.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/timefmt.hpp"
#include "receivers/event.hpp"  // k_team_roles

namespace calloutd {

struct Problem {
  std::string file;
  int line = 0;
  std::string message;
  std::string to_string() const { return file + ":" + std::to_string(line) + ": " + message; }
};

// The types an action item's Type may hold; any other is read as "other".
const std::vector<std::string>& action_item_types();

struct ActionItem {
  int line = 0;
  std::string text;
  std::string type;  // mitigate, prevent, process or other
  std::string owner;
  std::string ticket;
  std::optional<std::chrono::sys_days> due;
  std::string status;  // TODO, IN PROGRESS, DONE or WONTFIX

  bool open() const { return status == "TODO" || status == "IN PROGRESS"; }
  // Due date passed (in UTC) and still open. Due today is not overdue yet.
  bool overdue(std::chrono::sys_days today) const { return open() && due && *due < today; }
};

struct PostmortemFile {
  std::string status;  // draft, in review, published (lower-case, as normalised)
  std::vector<ActionItem> items;
  std::vector<std::string> reviewers;  // Review section: "Reviewers: ..." unless n/a
  std::vector<std::string> unchecked;  // checklist items not yet [x]
  // The narrative keys still n/a or empty (Summary, Impact, Root causes,
  // Trigger, Resolution), in the template's order.
  std::vector<std::string> unwritten;
  bool authors_named = false;  // Authors is not n/a
  // No Action Items rows, but a sentence in the key saying why none are needed.
  bool no_items_explained = false;
  std::vector<Problem> problems;
};

struct CalloutFile {
  std::string status;                   // active or resolved (lower-case)
  std::string severity;                 // MPI or HPI
  std::optional<TimePoint> last_entry;  // the newest timeline entry's time
  // Team roles as written: role -> holder ("" for n/a). Only the six roles;
  // the Next Incident Lead line is a due time, not a holder.
  std::map<std::string, std::string> roles;
  std::vector<Problem> problems;
};

PostmortemFile read_postmortem(std::string_view doc, const std::string& path);

// Why the postmortem cannot move to `to` (draft, in review, published);
// empty when it can. A review needs the narrative written (Summary, Impact,
// Root causes, Trigger, Resolution not n/a), Authors and Reviewers named and
// an Action Item or a sentence saying why none; publishing needs that, the
// postmortem in review first, and every checklist item ticked.
std::vector<std::string> transition_blockers(const PostmortemFile& file, const std::string& to);
CalloutFile read_callout(std::string_view doc, const std::string& path);

}  // namespace calloutd
