// The callouts repository's file layout, its one home:
// `<technology>/<issue>-<YYYY-MM-DD>[-N]/callout.md|postmortem.md`. Parsing and
// making folder names, and choosing the folder of a new callout, for the
// engine, the scanner, calloutctl and the lint alike. Pure: names in, names
// out; the repository is seen only through the callbacks of `Ground`.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace calloutd::layout {

inline constexpr std::string_view k_callout_file = "callout.md";
inline constexpr std::string_view k_postmortem_file = "postmortem.md";

// The repository paths of a folder's two files: `<folder>/callout.md`...
std::string callout_path(std::string_view folder);
std::string postmortem_path(std::string_view folder);

// A callout folder's name, `<issue>-<date>[-N]`, taken apart.
struct FolderName {
  std::string issue;
  std::string date;  // YYYY-MM-DD
  std::string n;     // "" for the day's first folder, else "2", "3"...
};

// Whether `date` (YYYY-MM-DD) names a real day of the calendar.
bool real_date(const std::string& date);

// The rule, strictly (what the lint accepts and what `folder_name` makes):
// the issue in kebab-case (`[a-z0-9]+(-[a-z0-9]+)*`), a real calendar date,
// N from 2 without leading zeros. nullopt otherwise.
std::optional<FolderName> parse_folder(std::string_view name);

// The rule as people apply it by hand (what the scanner, the engine's list of
// earlier occurrences and calloutctl read): any non-empty issue text (upper
// case, dots, spaces...), a date of the shape NNNN-NN-NN even if no real day,
// any digits as N. Everything `parse_folder` accepts, it accepts the same.
std::optional<FolderName> parse_folder_loosely(std::string_view name);

// Whether `name` is a folder of `issue` (loosely, as above): how the engine
// finds a callout's earlier occurrences beside it.
bool is_issue_folder(std::string_view name, std::string_view issue);

// `<issue>-<date>`, or `<issue>-<date>-<n>` for n >= 2.
std::string folder_name(std::string_view issue, std::string_view date, int n = 1);

// Whether a top-level entry of the repository can be a technology folder
// (hidden entries such as `.calloutd` and `.git` cannot).
bool can_be_technology(std::string_view name);

// A write-up's path taken apart: `<technology>/<folder>/<file>`.
struct WriteUpPath {
  std::string technology;
  std::string folder;
  std::string file;  // k_callout_file or k_postmortem_file
};

// `path` as a write-up's path (technology and folder names not checked);
// nullopt when it has not three parts or the file is neither write-up.
std::optional<WriteUpPath> parse_path(std::string_view path);

// The repository as allocation sees it. Each callback returns the first path
// that keeps its argument from being written (a symlink, a submodule, a file
// where a folder goes), nullopt when it is safe or absent.
struct Ground {
  std::function<std::set<std::string>(const std::string& dir)> names;  // entries of `dir`
  std::function<std::optional<std::string>(const std::string& dir)> unsafe_folder;
  std::function<std::optional<std::string>(const std::string& path)> unsafe_file;
};

// The first of `folder`'s callout.md and postmortem.md that cannot be
// written safely (see Ground), nullopt when both can.
std::optional<std::string> unsafe_write_up(const std::string& folder, const Ground& ground);

struct Allocation {
  std::string folder;                     // <dir>/<issue>-<date>[-N]
  std::vector<std::string> unsafe_paths;  // gone around on the way, in order, each once
};

// The folder for a new callout of `issue` on `date` under `technology`:
// `<technology>/<issue>-<date>`, then `-2`, `-3`... while the name is taken
// (a taken name that is a symlink is noted as unsafe and skipped like any
// other). A technology folder that cannot hold folders (a symlink, a
// submodule or a file in its place) is replaced by `<technology>-calloutd`,
// then `-calloutd-2`..., the first that is a folder or absent: next to the
// original in a listing, and saying who made it. Depends only on `ground`,
// so the same ground yields the same folder.
Allocation allocate_folder(const std::string& technology, const std::string& issue,
                           const std::string& date, const Ground& ground);

}  // namespace calloutd::layout
