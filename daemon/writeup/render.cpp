#include "daemon/writeup/render.hpp"

#include <re2/re2.h>
#include <kainjow/mustache.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/markdown.hpp"

namespace calloutd {
namespace {

namespace mus = kainjow::mustache;

mus::data to_data(const CalloutView& v) {
  mus::data d;
  d.set("summary_title", v.summary_title);
  d.set("date", v.date);
  d.set("incident_number", v.incident_number);
  d.set("severity", v.severity);
  d.set("summary", v.summary);
  d.set("status", v.status);
  d.set("opened_at", v.opened_at);
  d.set("handover_due", v.handover_due);
  d.set("first_timeline_entry", v.first_timeline_entry);
  d.set("dashboard", v.dashboard);
  d.set("alert_source", v.alert_source);
  d.set("runbook", v.runbook);
  d.set("detection", v.detection);
  d.set("labels_table", v.labels_table);
  d.set("previous_occurrences", v.previous_occurrences);
  return d;
}

std::string render(const std::string& tmpl, const CalloutView& view) {
  mus::mustache m(tmpl);
  m.set_custom_escape([](const std::string& s) { return markdown::escape_inline(s); });
  return m.render(to_data(view));
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{path + ": cannot read the template"};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string percent_encode(const std::string& s) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
  }
  return out;
}

Templates Templates::embedded() {
  return Templates(k_embedded_callout_template, k_embedded_postmortem_template);
}

Result<Templates> Templates::load(const std::string& dir) {
  auto callout = read_file(layout::callout_path(dir));
  auto postmortem = read_file(layout::postmortem_path(dir));
  if (!callout) {
    return Error{callout.error()};
  }
  if (!postmortem) {
    return Error{postmortem.error()};
  }
  for (const auto& [name, text] :
       {std::pair{"/callout.md", &*callout}, {"/postmortem.md", &*postmortem}}) {
    auto ok = check_template(*text);
    if (!ok) {
      return Error{dir + name + ": " + ok.error()};
    }
  }
  return Templates(std::move(*callout), std::move(*postmortem));
}

std::string Templates::render_callout(const CalloutView& view) const {
  return render(m_callout, view);
}

std::string Templates::render_postmortem(const CalloutView& view) const {
  return render(m_postmortem, view);
}

namespace {

// `tmpl` without the query parameters whose whole value is a placeholder of
// a label `labels` lacks ("var-cluster={{cluster}}" with no cluster label).
std::string without_missing_parameters(const std::string& tmpl,
                                       const std::map<std::string, std::string>& labels) {
  static const RE2 k_placeholder(R"(\{\{\{?\s*([^{}\s]+)\s*\}\}\}?)");
  auto query = tmpl.find('?');
  if (query == std::string::npos) {
    return tmpl;
  }
  auto fragment = std::min(tmpl.find('#', query), tmpl.size());
  std::string kept;
  std::size_t from = query + 1;
  while (from <= fragment) {
    auto end = std::min(tmpl.find('&', from), fragment);
    std::string parameter = tmpl.substr(from, end - from);
    auto eq = parameter.find('=');
    std::string label;
    bool missing = eq != std::string::npos &&
                   RE2::FullMatch(parameter.substr(eq + 1), k_placeholder, &label) &&
                   !labels.contains(label);
    if (!parameter.empty() && !missing) {
      kept += (kept.empty() ? "" : "&") + parameter;
    }
    from = end + 1;
  }
  return tmpl.substr(0, query) + (kept.empty() ? "" : "?" + kept) + tmpl.substr(fragment);
}

}  // namespace

std::string render_url_template(const std::string& tmpl,
                                const std::map<std::string, std::string>& labels) {
  mus::mustache m(without_missing_parameters(tmpl, labels));
  m.set_custom_escape(percent_encode);
  mus::data d;
  for (const auto& [k, v] : labels) {
    d.set(k, v);
  }
  return m.render(d);
}

Result<Ok> check_template(const std::string& text) {
  mus::mustache m(text);
  if (!m.is_valid()) {
    return Error{m.error_message()};
  }
  return Ok{};
}

std::string labels_table(const std::vector<std::map<std::string, std::string>>& rows) {
  if (rows.empty()) {
    return "n/a";
  }
  std::vector<std::string> columns{"alertname"};
  std::set<std::string> seen{"alertname"};
  for (const auto& row : rows) {
    for (const auto& [k, v] : row) {
      if (seen.insert(k).second) {
        columns.push_back(k);
      }
    }
  }
  std::string out = "|";
  std::string rule = "|";
  for (const auto& c : columns) {
    out += " " + markdown::escape_inline(c) + " |";
    rule += " --- |";
  }
  out += "\n" + rule + "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const auto& c : columns) {
      auto it = row.find(c);
      out += " " + (it == row.end() ? std::string{} : markdown::escape_inline(it->second)) + " |";
    }
    out += "\n";
  }
  out.pop_back();
  return out;
}

}  // namespace calloutd
