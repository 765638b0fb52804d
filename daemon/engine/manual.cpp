#include "daemon/engine/manual.hpp"

#include "daemon/base/hash.hpp"
#include "daemon/writeup/alert_text.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd {

std::string manual_incident_id(const ManualIncident& m) {
  return "man-" +
         sha256_hex(m.technology + "|" + m.issue + "|" + format_rfc3339_millis(m.at)).substr(0, 10);
}

CalloutView manual_view(const ManualIncident& m, const std::string& incident_id) {
  CalloutView v;
  v.summary_title = m.issue;
  v.date = format_date(m.at);
  v.incident_number = markdown::escape_inline(incident_id);
  v.severity = m.severity;
  v.summary = m.summary;  // the template escapes it
  v.status = "active";
  v.opened_at = format_utc(m.at);
  v.handover_due = format_utc(m.at + std::chrono::hours{4});
  v.first_timeline_entry = timeline_line(
      m.at, "callout opened by hand as " + m.severity + " (reported, not alerted)", "calloutctl");
  v.dashboard = "n/a";
  v.alert_source = "n/a (opened by hand)";
  v.runbook = "n/a";
  v.detection = "Reported by hand (calloutctl new); no alert fired.";
  v.labels_table = "n/a";
  v.previous_occurrences = "n/a";
  return v;
}

}  // namespace calloutd
