// The engine's Alertmanager side: which callout a notification belongs to,
// and the state machine of an alert group (open, join, resolve, reopen).
#include <algorithm>
#include <set>

#include "daemon/base/duration.hpp"
#include "daemon/base/hash.hpp"
#include "daemon/base/log.hpp"
#include "daemon/base/plural.hpp"
#include "daemon/engine/engine.hpp"
#include "daemon/engine/engine_internal.hpp"
#include "daemon/state/shifts.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/keys.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/postmortem.hpp"

namespace calloutd {
namespace {

// The alerts of a notification that the committed state does not hold yet as
// they are now: firing anew (or started again), or resolved.
struct AlertNews {
  std::vector<const Alert*> firing;
  std::vector<const Alert*> resolved;
};

AlertNews news_of(const AlertGroup& g, const std::optional<GroupState>& prior) {
  AlertNews news;
  for (const auto& a : g.alerts) {
    auto rec = prior ? prior->alerts.find(a.fingerprint)
                     : std::map<std::string, AlertRecord>::const_iterator{};
    bool known = prior && rec != prior->alerts.end();
    if (a.status == AlertStatus::firing) {
      if (!known || a.starts_at > rec->second.starts_at) {
        news.firing.push_back(&a);
      }
    } else if (!known || (!rec->second.resolved && a.starts_at >= rec->second.starts_at)) {
      news.resolved.push_back(&a);
    }
  }
  return news;
}

}  // namespace

std::string Engine::state_id_for(const AlertGroup& g, const Overlay& view) {
  const std::string gid = group_id(g);
  if (auto it = m_by_group.find(gid); it != m_by_group.end()) {
    return it->second;
  }
  if (g.group_key.empty()) {
    return gid;
  }
  // A state of its own, even one that cannot be read, keeps the group apart.
  if (auto own = state_for(gid, view); !own.ok() || *own) {
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

// A line of its own for at most this many alerts of one notification.
constexpr std::size_t k_alert_lines = k_listed_alerts;

// One Alertmanager notification decided step by step into `plan`.
struct Engine::AlertSteps {
  const Config& config;
  const AlertGroup& g;
  const std::string& sid;
  TimePoint now;
  Plan& plan;
  std::vector<std::string> resolved_now;  // the alerts record_resolved() wrote a line for
  std::size_t resolved_more = 0;          // and those it counted in one line past the limit
  std::size_t resolved_entries = 0;       // the lines record_resolved() wrote

  // Opens a callout for `firing`, or reopens the resolved one within the
  // reopen window; false (plan unchanged or ignored) when nothing fires anew
  // or no route takes it.
  bool open_or_reopen(const std::vector<const Alert*>& firing,
                      const std::optional<GroupState>& prior);
  void reopen(const Alert& first, TimePoint first_start);
  void open(const Alert& first, TimePoint first_start);
  // An entry per alert that fires (again) in the active callout.
  void record_firing(const std::vector<const Alert*>& firing);
  // An entry per alert that resolved; only recorded when the callout (re)opens now.
  void record_resolved(const std::vector<const Alert*>& resolved, bool active);
  // Alertmanager resolved the whole group: so is the callout.
  void resolve_group();
  void note_truncation();
  // The group's keys for correlation, and the callout's first values (to
  // open it, or to write it again when someone deleted it).
  void remember_group();
};

bool Engine::AlertSteps::open_or_reopen(const std::vector<const Alert*>& firing,
                                        const std::optional<GroupState>& prior) {
  if (firing.empty()) {
    plan.outcome = prior ? Outcome::unchanged : Outcome::ignored;
    return false;
  }
  plan.route = route_for(config.routes, firing);
  if (plan.route == nullptr) {
    plan.outcome = Outcome::ignored;
    // At debug level: alerts that open nothing by design (warnings) are common.
    const Labels& labels = firing.front()->labels;
    auto label = [&](const char* name) {
      auto it = labels.find(name);
      return it == labels.end() ? std::string() : it->second;
    };
    log::debug("no route takes the alert group; nothing is written",
               {{"receiver", g.receiver},
                {"alertname", label("alertname")},
                {"severity", label("severity")}});
    return false;
  }
  plan.opening = firing;
  TimePoint first_start = or_now(firing.front()->starts_at, now);
  for (const Alert* a : firing) {
    first_start = std::min(first_start, or_now(a->starts_at, now));
  }
  if (prior && now - prior->resolved_at <= config.reopen_window) {
    reopen(*firing.front(), first_start);
  } else {
    open(*firing.front(), first_start);
  }
  for (const Alert* a : firing) {
    plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, {}, false};
  }
  return true;
}

void Engine::AlertSteps::reopen(const Alert& first, TimePoint first_start) {
  plan.outcome = Outcome::reopened;
  plan.state.resolved = false;
  plan.state.resolved_at = {};
  plan.keys[keys::k_status] = "active";
  plan.entries.emplace_back(
      first_start,
      timeline_line(first_start,
                    describe_alert(g, first) + " firing again within the reopen window (" +
                        format_duration(config.reopen_window) + "); callout reopened"));
}

void Engine::AlertSteps::open(const Alert& first, TimePoint first_start) {
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

void Engine::AlertSteps::record_firing(const std::vector<const Alert*>& firing) {
  std::size_t more = 0;
  TimePoint latest{};
  for (const Alert* a : firing) {
    bool again = plan.state.alerts.contains(a->fingerprint);
    TimePoint t = or_now(a->starts_at, now);
    plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, {}, false};
    if (plan.entries.size() >= k_alert_lines) {
      ++more;
      latest = std::max(latest, t);
      continue;
    }
    std::string summary = label(a->annotations, "summary");
    plan.entries.emplace_back(
        t, timeline_line(t, describe_alert(g, *a) + (again ? " firing again" : " firing") +
                                (summary.empty() ? "" : ": " + summary)));
  }
  if (more > 0) {
    plan.entries.emplace_back(
        latest, timeline_line(latest, plural(more, "further alert") +
                                          " of the group firing (the alert source lists each)"));
  }
}

void Engine::AlertSteps::record_resolved(const std::vector<const Alert*>& resolved, bool active) {
  TimePoint latest{};
  for (const Alert* a : resolved) {
    plan.state.alerts[a->fingerprint] = AlertRecord{a->starts_at, a->ends_at, true};
    if (plan.outcome == Outcome::opened || !active) {
      continue;
    }
    TimePoint t = or_now(a->ends_at, now);
    if (resolved_now.size() >= k_alert_lines) {
      ++resolved_more;
      latest = std::max(latest, t);
      continue;
    }
    plan.entries.emplace_back(t, timeline_line(t, describe_alert(g, *a) + " resolved"));
    resolved_now.push_back(describe_alert(g, *a));
  }
  resolved_entries = resolved_now.size();
  if (resolved_more > 0) {
    plan.entries.emplace_back(
        latest, timeline_line(latest, plural(resolved_more, "further alert") +
                                          " of the group resolved (the alert source lists each)"));
    ++resolved_entries;
  }
}

void Engine::AlertSteps::resolve_group() {
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
  plan.keys[keys::k_status] = "resolved";
  plan.resolves = true;
  plan.alerts_resolved = true;
  plan.summary = "resolved";
  // The alerts resolving now and the group's resolution are one entry.
  plan.entries.resize(plan.entries.size() - resolved_entries);
  std::string which = "all alerts of the group";
  if (resolved_more > 0) {
    which = join(resolved_now, ", ") + " and " + plural(resolved_more, "other alert") +
            ", the last alerts of the group,";
  } else if (!resolved_now.empty()) {
    which = join(resolved_now, " and ") + (resolved_now.size() == 1
                                               ? ", the last alert of the group,"
                                               : ", the last alerts of the group,");
  }
  plan.entries.emplace_back(
      t,
      timeline_line(t, which + " resolved; " +
                           resolution_facts(plan.state, t, config.target_for(plan.state.severity)) +
                           "; Status set to resolved"));
}

void Engine::AlertSteps::note_truncation() {
  if (g.truncated_alerts > 0 && g.truncated_alerts != plan.state.truncated_alerts) {
    plan.entries.emplace_back(
        now, timeline_line(
                 now, "Alertmanager left " +
                          plural(static_cast<std::size_t>(g.truncated_alerts), "further alert") +
                          " of the group out of the notification (max_alerts); the "
                          "alert source lists every alert"));
  }
  plan.state.truncated_alerts = std::max(plan.state.truncated_alerts, g.truncated_alerts);
}

void Engine::AlertSteps::remember_group() {
  if (!g.group_key.empty()) {
    plan.state.dedup_keys.insert(sha256_hex(g.group_key));
  }
  if (plan.state.group_id != group_id(g)) {
    plan.state.joined_groups.insert(group_id(g));
  }
  const Route* route = plan.route;
  std::vector<const Alert*> opening =
      plan.opening.empty() ? std::vector<const Alert*>{&g.alerts.front()} : plan.opening;
  plan.make_view = [&g = g, route, opening, &routes = config.routes](const GroupState& state) {
    static const Route k_fallback{{}, Severity::hpi, "", "", "existing incident"};
    const Route* r = route != nullptr ? route : route_for(routes, opening);
    return callout_view(g, opening, r != nullptr ? *r : k_fallback, state);
  };
}

Engine::Plan Engine::decide_alerts(const Event& event, const AlertGroup& g, const std::string& sid,
                                   const std::optional<GroupState>& prior) const {
  Plan plan;
  plan.state = prior.value_or(GroupState{});
  if (!prior) {
    plan.state.group_id = sid;
  }
  const bool active = prior && !prior->resolved;
  const AlertNews news = news_of(g, prior);
  AlertSteps steps{*m_config, g, sid, event.received_at, plan};
  if (!active) {
    if (!steps.open_or_reopen(news.firing, prior)) {
      return plan;
    }
  } else {
    steps.record_firing(news.firing);
  }
  steps.record_resolved(news.resolved, active);
  if (active && g.status == AlertStatus::resolved) {
    steps.resolve_group();
  }
  steps.note_truncation();
  if (plan.outcome == Outcome::unchanged && !plan.entries.empty()) {
    plan.outcome = Outcome::updated;
  }
  if (changes_files(plan.outcome)) {
    steps.remember_group();
  }
  return plan;
}

}  // namespace calloutd
