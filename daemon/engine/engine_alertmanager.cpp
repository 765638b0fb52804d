// The engine's Alertmanager side: which callout a notification belongs to,
// and the state machine of an alert group (open, join, resolve, reopen).
#include <algorithm>
#include <set>

#include "daemon/base/duration.hpp"
#include "daemon/base/hash.hpp"
#include "daemon/base/log.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd {

std::string Engine::state_id_for(const AlertGroup& g, const Overlay& view) {
  const std::string gid = group_id(g);
  if (auto it = m_by_group.find(gid); it != m_by_group.end()) {
    return it->second;
  }
  if (g.group_key.empty() || state_for(gid, view)) {
    return gid;
  }
  // Alertmanager paged PagerDuty for this group, and PagerDuty's webhook came
  // first: the group joins the callout PagerDuty opened.
  // Only a callout PagerDuty opened is joined: another Alertmanager group with
  // the same key text is another group.
  if (auto it = m_by_dedup_key.find(sha256_hex(g.group_key));
      it != m_by_dedup_key.end() && it->second.rfind(k_pagerduty_state_prefix, 0) == 0) {
    return it->second;
  }
  return gid;
}

Engine::Plan Engine::decide_alerts(const Event& event, const AlertGroup& g, const std::string& sid,
                                   const std::optional<GroupState>& prior) const {
  const TimePoint now = event.received_at;
  Plan plan;
  plan.state = prior.value_or(GroupState{});
  if (!prior) {
    plan.state.group_id = sid;
  }
  const bool active = prior && !prior->resolved;

  // Sort the alerts into news and repeats, comparing with what was committed.
  std::vector<const Alert*> firing_new, resolved_new;
  for (const auto& a : g.alerts) {
    auto rec = prior ? prior->alerts.find(a.fingerprint)
                     : std::map<std::string, AlertRecord>::const_iterator{};
    bool known = prior && rec != prior->alerts.end();
    if (a.status == AlertStatus::firing) {
      if (!known || a.starts_at > rec->second.starts_at) {
        firing_new.push_back(&a);
      }
    } else if (!known || (!rec->second.resolved && a.starts_at >= rec->second.starts_at)) {
      resolved_new.push_back(&a);
    }
  }

  if (!active) {
    if (firing_new.empty()) {
      plan.outcome = prior ? Outcome::unchanged : Outcome::ignored;
      return plan;
    }
    plan.route = route_for(m_config.routes, firing_new);
    if (plan.route == nullptr) {
      plan.outcome = Outcome::ignored;
      return plan;
    }
    plan.opening = firing_new;
    TimePoint first_start = or_now(firing_new.front()->starts_at, now);
    for (const Alert* a : firing_new) {
      first_start = std::min(first_start, or_now(a->starts_at, now));
    }
    const Alert& first = *firing_new.front();
    bool reopen = prior && now - prior->resolved_at <= m_config.reopen_window;
    if (reopen) {
      plan.outcome = Outcome::reopened;
      plan.state.resolved = false;
      plan.state.resolved_at = {};
      plan.keys["Status"] = "active";
      plan.entries.emplace_back(
          first_start,
          timeline_line(first_start,
                        describe_alert(g, first) + " firing again within the reopen window (" +
                            format_duration(m_config.reopen_window) + "); callout reopened"));
    } else {
      plan.outcome = Outcome::opened;
      GroupState fresh;
      fresh.group_id = sid;
      fresh.severity = plan.route->severity;
      fresh.technology = technology_for(g, first, plan.route);
      fresh.issue = kebab_slug(alert_name(g, first), "alert");
      fresh.opened_at = first_start;
      fresh.incident_id =
          "am-" + sha256_hex(sid + "|" + format_rfc3339_millis(first_start)).substr(0, 10);
      plan.state = std::move(fresh);
    }
    for (const Alert* a : firing_new) {
      plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, {}, false};
    }
  } else {
    for (const Alert* a : firing_new) {
      bool again = plan.state.alerts.contains(a->fingerprint);
      TimePoint t = or_now(a->starts_at, now);
      std::string summary = label(a->annotations, "summary");
      plan.entries.emplace_back(
          t, timeline_line(t, describe_alert(g, *a) + (again ? " firing again" : " firing") +
                                  (summary.empty() ? "" : ": " + summary)));
      plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, {}, false};
    }
  }
  for (const Alert* a : resolved_new) {
    if (plan.outcome == Outcome::opened || !active) {
      plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, a->ends_at, true};
      continue;
    }
    TimePoint t = or_now(a->ends_at, now);
    plan.entries.emplace_back(t, timeline_line(t, describe_alert(g, *a) + " resolved"));
    plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, a->ends_at, true};
  }
  if (active && g.status == AlertStatus::resolved) {
    TimePoint t{};
    for (const auto& a : g.alerts) {
      t = std::max(t, a.ends_at);
    }
    t = or_now(t, now);
    for (auto& [fp, rec] : plan.state.alerts) {
      rec.resolved = true;
    }
    plan.state.resolved = true;
    plan.state.resolved_at = now;
    plan.keys["Status"] = "resolved";
    plan.resolves = true;
    plan.summary = "resolved";
    plan.entries.emplace_back(
        t, timeline_line(t, "all alerts of the group resolved; Status set to resolved"));
  }
  if (g.truncated_alerts > 0 && g.truncated_alerts != plan.state.truncated_alerts) {
    plan.entries.emplace_back(
        now, timeline_line(now, "Alertmanager left " + std::to_string(g.truncated_alerts) +
                                    " further alerts of the group out of the notification "
                                    "(max_alerts); see the alert source for all of them"));
  }
  plan.state.truncated_alerts = std::max(plan.state.truncated_alerts, g.truncated_alerts);
  if (plan.outcome == Outcome::unchanged && !plan.entries.empty()) {
    plan.outcome = Outcome::updated;
  }
  if (changes_files(plan.outcome)) {
    if (!g.group_key.empty()) {
      plan.state.dedup_keys.insert(sha256_hex(g.group_key));
    }
    if (plan.state.group_id != group_id(g)) {
      plan.state.joined_groups.insert(group_id(g));
    }
    // The callout's first values, for opening it (or writing it again if deleted).
    const Route* route = plan.route;
    std::vector<const Alert*> opening =
        plan.opening.empty() ? std::vector<const Alert*>{&g.alerts.front()} : plan.opening;
    plan.make_view = [&g, route, opening, this](const GroupState& state) {
      static const Route k_fallback{{}, Severity::hpi, "", "", "existing incident"};
      const Route* r = route != nullptr ? route : route_for(m_config.routes, opening);
      return callout_view(g, opening, r != nullptr ? *r : k_fallback, state);
    };
  }
  return plan;
}

}  // namespace calloutd
