// The callouts repository as calloutctl reads it: opened without creating
// one, and its write-up folders as read from its branch. Shared by new, list
// and search (defined in incidents.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/base/result.hpp"
#include "daemon/git/repository.hpp"

namespace calloutd::ctl {

// The repository at `path` (a working copy or a bare repository) on `branch`;
// an error when it is not a git repository or cannot be opened.
Result<std::unique_ptr<GitRepository>> open_repository(const std::string& path,
                                                       const std::string& branch);

// One write-up folder of the repository, as read from its branch.
struct Folder {
  std::string path;  // technology/issue-date[-n]
  std::string technology;
  std::string issue;  // the folder's issue slug
  std::string date;
  std::string callout;
  std::string postmortem;
};

// Every <technology>/<issue>-<date>[-n] folder holding a callout.md at the
// branch's head (none on an unborn branch); an error naming the file when
// one cannot be read (a damaged repository).
Result<std::vector<Folder>> folders_of(Repository& repo);

}  // namespace calloutd::ctl
