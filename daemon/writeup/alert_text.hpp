// What the write-ups say about an Alertmanager alert group: names, timeline
// lines, links, the route that decides, and the values of a new callout.
// Pure functions of the notification and the config.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/state/group_state.hpp"
#include "daemon/writeup/render.hpp"
#include "receivers/event.hpp"

namespace calloutd {

// The value of `key` in `labels`, or "".
std::string label(const Labels& labels, const std::string& key);

// An annotation of the group, else of its first alert.
std::string annotation(const AlertGroup& group, const Alert& first, const std::string& key);

std::string alert_name(const AlertGroup& group, const Alert& alert);

// `HighRequestLatency (instance=api-2:8080)`: the name and what tells the
// alert apart from the rest of its group.
std::string describe_alert(const AlertGroup& group, const Alert& alert);

// The alerts of one notification a callout names one by one (a labels row,
// a timeline line); past them, one line counts the rest, as Alertmanager's
// max_alerts does: a group of thousands keeps its callout readable and its
// writing cheap.
inline constexpr std::size_t k_listed_alerts = 20;

// A complete, escaped timeline line: `2026-11-22 03:45:52 UTC - <source> - <text>`.
std::string timeline_line(TimePoint when, const std::string& text,
                          const std::string& source = "Alertmanager");

// The route's technology, else the labels technology, service, job; else `unclassified`.
std::string technology_for(const AlertGroup& group, const Alert& first, const Route* route);

// The first route matching each alert; the most severe outcome wins for the
// group. nullptr when nothing matches or every match says `ignore`.
const Route* route_for(const std::vector<Route>& routes, const std::vector<const Alert*>& alerts);

// The values a new callout of `state` (opened by the firing `opening` alerts
// through `route`) is rendered with; previous_occurrences is left to the caller.
CalloutView callout_view(const AlertGroup& group, const std::vector<const Alert*>& opening,
                         const Route& route, const GroupState& state);

// The Previous occurrences list: links to sibling folders `previous` (names in
// `technology`, newest first), or n/a.
std::string previous_occurrences(const std::string& technology,
                                 const std::vector<std::string>& previous);

}  // namespace calloutd
