// Renders callout.md and postmortem.md from mustache templates: the shipped
// ones compiled into the binary, or a team's own from `templates_dir`.
// `{{name}}` is markdown-escaped; `{{{name}}}` inserts prepared markdown.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "daemon/base/result.hpp"

namespace calloutd {

extern const char* const k_embedded_callout_template;
extern const char* const k_embedded_postmortem_template;
extern const char* const k_embedded_stylesheet;  // templates/writeup.css

// The values a new callout is rendered with. Plain text fields are escaped by
// the renderer; fields documented as markdown must be prepared by the caller.
struct CalloutView {
  std::string summary_title;         // text
  std::string date;                  // YYYY-MM-DD
  std::string incident_number;       // markdown
  std::string severity;              // MPI or HPI
  std::string summary;               // text
  std::string status;                // active or resolved
  std::string opened_at;             // YYYY-MM-DD HH:MM:SS UTC
  std::string handover_due;          // YYYY-MM-DD HH:MM:SS UTC
  std::string first_timeline_entry;  // markdown, one line
  std::string dashboard;             // markdown
  std::string dashboard_url;         // the raw URL when there is a dashboard (not the alert source)
  std::string alert_source;          // markdown
  std::string runbook;               // markdown
  std::string detection;             // markdown
  std::string labels_table;          // markdown
  std::string previous_occurrences;  // markdown
};

class Templates {
 public:
  // The shipped templates.
  static Templates embedded();
  // `dir`/callout.md and `dir`/postmortem.md; an error names the file and the
  // mustache problem.
  static Result<Templates> load(const std::string& dir);

  std::string render_callout(const CalloutView& view) const;
  std::string render_postmortem(const CalloutView& view) const;
  // The template texts (their headings are the keys the linter checks).
  const std::string& callout_source() const { return m_callout; }
  const std::string& postmortem_source() const { return m_postmortem; }

 private:
  Templates(std::string callout, std::string postmortem)
      : m_callout(std::move(callout)), m_postmortem(std::move(postmortem)) {}
  std::string m_callout;
  std::string m_postmortem;
};

// Renders a route's `dashboard_url_template`, placeholders from `labels`,
// values percent-encoded for a URL. A query parameter whose value is the
// placeholder of a label the alert lacks is left out, not sent empty.
std::string render_url_template(const std::string& tmpl,
                                const std::map<std::string, std::string>& labels);

// `s` percent-encoded for a URL (everything but unreserved characters).
std::string percent_encode(const std::string& s);

// Checks that `text` is a valid mustache template; the error says why.
Result<Ok> check_template(const std::string& text);

// A markdown table of label sets, one row per set, one column per label name
// (`alertname` first), every cell escaped.
std::string labels_table(const std::vector<std::map<std::string, std::string>>& rows);

}  // namespace calloutd
