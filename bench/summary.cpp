#include "summary.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>

namespace calloutd::bench {
namespace {

enum class Better { higher, lower, neither };

// One row: what it is, which way is better, and how to read it from a run.
struct Figure {
  std::string name;
  Better better;
  std::function<std::optional<double>(const json& run)> read;
};

// The element of the array `run[phase]` whose `key` is `value`.
std::optional<json> row_of(const json& run, const char* phase, const char* key, int value) {
  if (!run.contains(phase)) {
    return std::nullopt;
  }
  for (const auto& r : run[phase]) {
    if (r.value(key, -1) == value) {
      return r;
    }
  }
  return std::nullopt;
}

Figure field(std::string name, Better better, const char* phase, const char* key, int value,
             const char* field_name, double scale = 1) {
  return {std::move(name), better, [=](const json& run) -> std::optional<double> {
            auto r = row_of(run, phase, key, value);
            if (!r || !r->contains(field_name)) {
              return std::nullopt;
            }
            return (*r)[field_name].get<double>() * scale;
          }};
}

Figure quiet_field(std::string name, Better better, const char* field_name, double scale = 1) {
  return {std::move(name), better, [=](const json& run) -> std::optional<double> {
            if (!run.contains("quiet") || !run["quiet"].contains(field_name)) {
              return std::nullopt;
            }
            return run["quiet"][field_name].get<double>() * scale;
          }};
}

// 10000 as "10,000".
std::string count(int n) {
  auto digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out.push_back(',');
    }
    out.push_back(digits[i]);
  }
  return out;
}

// The sizes a phase ran at, from the first run: storm groups, scale folders.
std::vector<int> sizes(const json& run, const char* phase, const char* key) {
  std::vector<int> out;
  for (const auto& r : run.value(phase, json::array())) {
    out.push_back(r[key].get<int>());
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

std::vector<Figure> figures(const json& run) {
  std::vector<Figure> f;
  auto storms = sizes(run, "storm", "groups");
  for (int n : storms) {
    f.push_back(field("new callouts/s, storm of " + count(n) + " groups (16 connections)",
                      Better::higher, "storm", "groups", n, "callouts_per_second"));
  }
  for (int n : storms) {
    auto of = ", storm of " + count(n);
    f.push_back(
        field("accepted/s" + of, Better::higher, "storm", "groups", n, "accepted_per_second"));
    f.push_back(field("webhook -> 2xx p99 (ms)" + of, Better::lower, "storm", "groups", n,
                      "webhook_to_2xx_p99_ms"));
    f.push_back(field("webhook -> commit p99 (s)" + of, Better::lower, "storm", "groups", n,
                      "webhook_to_commit_p99_s_histogram"));
  }
  auto q = run.contains("quiet") ? run["quiet"].value("notifications", 0) : 0;
  auto one = " (quiet path, " + count(q) + " one at a time)";
  f.push_back(
      quiet_field("webhook -> commit p50 (ms)" + one, Better::lower, "webhook_to_commit_p50_ms"));
  f.push_back(
      quiet_field("webhook -> commit p99 (ms)" + one, Better::lower, "webhook_to_commit_p99_ms"));
  f.push_back(
      quiet_field("commits within 10 ms (%)" + one, Better::higher, "share_within_10ms", 100));
  f.push_back(quiet_field("webhook -> 2xx p99 (ms)" + one, Better::lower, "webhook_to_2xx_p99_ms"));
  f.push_back(field("re-fire, 1 connection (one Alertmanager): req/s", Better::higher, "refire",
                    "connections", 1, "calloutd_rps"));
  f.push_back(field("re-fire, 1 connection: latency p50 (ms)", Better::lower, "refire",
                    "connections", 1, "calloutd_p50_ms"));
  f.push_back(field("re-fire, 1 connection: latency p99 (ms)", Better::lower, "refire",
                    "connections", 1, "calloutd_p99_ms"));
  for (int c : {1, 8, 32, 64}) {
    f.push_back(
        field("re-fire / bare server, " + std::to_string(c) + " connection" + (c == 1 ? "" : "s"),
              Better::higher, "refire", "connections", c, "ratio"));
  }
  for (int n : storms) {
    f.push_back(field("RSS after the storm of " + count(n) + " (" + count(n) + " open), MiB",
                      Better::lower, "storm", "groups", n, "rss_after_drain_mib"));
    f.push_back(field("RSS peak, storm of " + count(n) + ", MiB", Better::lower, "storm", "groups",
                      n, "rss_peak_mib"));
  }
  for (int n : sizes(run, "scale", "folders")) {
    f.push_back(field("cold start with " + count(n) + " folders (s)", Better::lower, "scale",
                      "folders", n, "cold_start_s"));
    f.push_back(field("/metrics p50 at " + count(n) + " folders (ms)", Better::lower, "scale",
                      "folders", n, "metrics_scrape_p50_ms"));
  }
  auto remote = row_of(run, "remote", "daemons", 1);
  auto groups = remote ? count(remote->value("groups", 0)) : "?";
  f.push_back(field("remote: " + groups + " groups, one daemon (callouts/s on the remote)",
                    Better::higher, "remote", "daemons", 1, "callouts_on_remote_per_second"));
  f.push_back(field("remote: " + groups + " groups, HA pair (callouts/s on the remote)",
                    Better::higher, "remote", "daemons", 2, "callouts_on_remote_per_second"));
  return f;
}

std::string number(std::optional<double> v) {
  if (!v) {
    return "-";
  }
  char buf[32];
  double a = std::abs(*v);
  std::snprintf(buf, sizeof buf,
                a >= 100  ? "%.0f"
                : a >= 10 ? "%.1f"
                : a >= 1  ? "%.2f"
                          : "%.3f",
                *v);
  return buf;
}

// Within 10% either way is "~" (less than this machine's noise anyway).
std::string reading(double ratio, Better better) {
  if (better == Better::neither || ratio == 0) {
    return "";
  }
  bool up = ratio > 1.10, down = ratio < 1 / 1.10;
  if (!up && !down) {
    return "~";
  }
  return (up == (better == Better::higher)) ? "better" : "worse";
}

// The first column to the left, the figures to the right.
void print_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) {
  std::string line = "|";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto pad = widths[i] - std::min(widths[i], cells[i].size());
    line.push_back(' ');
    if (i > 0) {
      line.append(pad, ' ');
    }
    line.append(cells[i]);
    if (i == 0) {
      line.append(pad, ' ');
    }
    line.append(" |");
  }
  std::printf("%s\n", line.c_str());
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(rows.front().size(), 3);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      widths[i] = std::max(widths[i], r[i].size());
    }
  }
  print_row(rows.front(), widths);
  std::string rule = "|";
  for (std::size_t i = 0; i < widths.size(); ++i) {
    rule.push_back(' ');
    rule.append(i == 0 ? widths[i] : widths[i] - 1, '-');
    rule.append(i == 0 ? " |" : ": |");
  }
  std::printf("%s\n", rule.c_str());
  for (std::size_t i = 1; i < rows.size(); ++i) {
    print_row(rows[i], widths);
  }
}

void add_ceilings(const std::vector<json>& runs, const json& ceiling, std::size_t columns,
                  std::vector<std::vector<std::string>>& rows, json& out) {
  auto add = [&](const std::string& name, std::optional<double> v) {
    std::vector<std::string> r{name, number(v)};
    r.resize(columns, "");
    rows.push_back(r);
    out.push_back({{"figure", name}, {"ceiling", v ? json(*v) : json()}});
  };
  for (const auto& c : ceiling) {
    auto n = count(c["commits"].get<int>());
    add("ceiling: libgit2 two-file commit loop, " + n + " commits (commits/s)",
        c["libgit2_commits_per_second"].get<double>());
    auto over = c["git_cli_measured_over"].get<int>();
    auto run =
        over == c["commits"].get<int>() ? n + " commits" : "first " + count(over) + " of " + n;
    add("ceiling: git CLI two-file commits, " + run + " (commits/s)",
        c["git_cli_commits_per_second"].get<double>());
  }
  for (int conns : {1, 8, 32, 64}) {
    auto r = row_of(runs.front(), "refire", "connections", conns);
    if (!r) {
      continue;
    }
    add("ceiling: bare cpp-httplib server, " + std::to_string(conns) + " conns (req/s)",
        (*r)["bare_rps"].get<double>());
  }
}

}  // namespace

json print_summary(const std::vector<json>& runs, const json& ceiling) {
  bool compare = runs.size() == 2;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head{"figure"};
  for (const auto& r : runs) {
    head.push_back(r["label"].get<std::string>());
  }
  if (compare) {
    head.push_back("new/old");
    head.push_back("reading");
  }
  rows.push_back(head);
  json out = json::array();
  for (const auto& f : figures(runs.back())) {
    std::vector<std::string> row{f.name};
    json values = json::object();
    std::vector<std::optional<double>> v;
    for (const auto& r : runs) {
      v.push_back(f.read(r));
      row.push_back(number(v.back()));
      values[r["label"].get<std::string>()] = v.back() ? json(*v.back()) : json();
    }
    if (std::none_of(v.begin(), v.end(), [](const auto& x) { return x.has_value(); })) {
      continue;  // a phase left out (--only)
    }
    json j{{"figure", f.name}, {"values", values}};
    if (compare) {
      double ratio = v[0] && v[1] && *v[0] != 0 ? *v[1] / *v[0] : 0;
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.2f", ratio);
      row.push_back(ratio != 0 ? buf : "-");
      row.push_back(reading(ratio, f.better));
      j["ratio_new_over_old"] = ratio;
    }
    rows.push_back(row);
    out.push_back(j);
  }
  add_ceilings(runs, ceiling, head.size(), rows, out);
  std::printf("\n== Summary%s ==\n\n",
              compare ? " (new/old: the second column over the first)" : "");
  print_table(rows);
  return out;
}

}  // namespace calloutd::bench
