#include "daemon/writeup/layout.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <chrono>

namespace calloutd::layout {

std::string callout_path(std::string_view folder) {
  return std::string(folder) + "/" + std::string(k_callout_file);
}

std::string postmortem_path(std::string_view folder) {
  return std::string(folder) + "/" + std::string(k_postmortem_file);
}
namespace {

std::optional<FolderName> parse_with(std::string_view name, const RE2& re) {
  FolderName f;
  if (!RE2::FullMatch(name, re, &f.issue, &f.date, &f.n)) {
    return std::nullopt;
  }
  return f;
}

void add_unique(std::vector<std::string>& paths, const std::string& path) {
  if (std::find(paths.begin(), paths.end(), path) == paths.end()) {
    paths.push_back(path);
  }
}

}  // namespace

bool real_date(const std::string& date) {
  int y = 0, m = 0, d = 0;
  static const RE2 k_date(R"((\d{4})-(\d{2})-(\d{2}))");
  if (!RE2::FullMatch(date, k_date, &y, &m, &d)) {
    return false;
  }
  return std::chrono::year_month_day{std::chrono::year{y},
                                     std::chrono::month{static_cast<unsigned>(m)},
                                     std::chrono::day{static_cast<unsigned>(d)}}
      .ok();
}

std::optional<FolderName> parse_folder(std::string_view name) {
  // N from 2: "-1" passes the pattern and is refused below.
  static const RE2 k_strict(R"(([a-z0-9]+(?:-[a-z0-9]+)*)-(\d{4}-\d{2}-\d{2})(?:-([1-9]\d*))?)");
  auto f = parse_with(name, k_strict);
  if (!f || !real_date(f->date) || f->n == "1") {
    return std::nullopt;
  }
  return f;
}

std::optional<FolderName> parse_folder_loosely(std::string_view name) {
  // The date and N are the name's last three or four dash-separated parts,
  // whichever fits (never both), so the issue is the rest, whatever it holds.
  static const RE2 k_loose(R"((.+)-(\d{4}-\d{2}-\d{2})(?:-(\d+))?)");
  return parse_with(name, k_loose);
}

bool is_issue_folder(std::string_view name, std::string_view issue) {
  auto f = parse_folder_loosely(name);
  return f && f->issue == issue;
}

std::string folder_name(std::string_view issue, std::string_view date, int n) {
  std::string name = std::string(issue) + "-" + std::string(date);
  return n > 1 ? name + "-" + std::to_string(n) : name;
}

bool can_be_technology(std::string_view name) {
  return !name.empty() && name.front() != '.';
}

std::optional<WriteUpPath> parse_path(std::string_view path) {
  static const RE2 k_path(R"(([^/]+)/([^/]+)/(callout\.md|postmortem\.md))");
  WriteUpPath p;
  if (!RE2::FullMatch(path, k_path, &p.technology, &p.folder, &p.file)) {
    return std::nullopt;
  }
  return p;
}

std::optional<std::string> unsafe_write_up(const std::string& folder, const Ground& ground) {
  for (auto file : {k_callout_file, k_postmortem_file}) {
    if (auto unsafe = ground.unsafe_file(folder + "/" + std::string(file))) {
      return unsafe;
    }
  }
  return std::nullopt;
}

Allocation allocate_folder(const std::string& technology, const std::string& issue,
                           const std::string& date, const Ground& ground) {
  Allocation out;
  std::string dir = technology;
  for (int n = 1; auto unsafe = ground.unsafe_folder(dir); ++n) {
    add_unique(out.unsafe_paths, *unsafe);
    dir = technology + "-calloutd" + (n > 1 ? "-" + std::to_string(n) : "");
  }
  const auto taken = ground.names(dir);
  std::string name = folder_name(issue, date);
  for (int n = 2; taken.contains(name); ++n) {
    if (auto unsafe = unsafe_write_up(dir + "/" + name, ground)) {
      add_unique(out.unsafe_paths, *unsafe);
    }
    name = folder_name(issue, date, n);
  }
  out.folder = dir + "/" + name;
  return out;
}

}  // namespace calloutd::layout
