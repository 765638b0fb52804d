// The network half of the callouts repository: fetch the team's remote
// (GitHub/GitLab over SSH or HTTPS, or a bare repository on disk) into
// refs/remotes/origin/<branch>, and push a commit to its branch. Uses its own
// libgit2 handle on the repository, so that a slow network never holds up the
// engine's commits; the branch itself is only ever moved by the engine's side
// (GitRepository). Credentials stay in this class: errors name the key file
// or the token file, never their contents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "daemon/base/result.hpp"
#include "daemon/config/config.hpp"

struct git_repository;
struct git_remote;

namespace calloutd {

class Remote {
 public:
  Remote(const RemoteConfig& config, const std::string& repo_path, std::string branch);
  ~Remote();
  Remote(const Remote&) = delete;
  Remote& operator=(const Remote&) = delete;

  // Fetches the branch into the tracking ref; its commit id ("" while the
  // remote has no such branch).
  Result<std::string> fetch();

  enum class PushStatus { pushed, rejected, failed };
  struct PushOutcome {
    PushStatus status = PushStatus::failed;
    std::string error;  // why, when not pushed
  };
  // Pushes `commit` to the remote branch (fast-forward only): rejected when
  // the remote has commits `commit` does not contain.
  PushOutcome push(const std::string& commit);

  // Commits in `tip` that the tracking ref does not have, and the commit
  // time (Unix seconds) of the oldest of them.
  struct Unpushed {
    std::size_t commits = 0;
    std::int64_t oldest_time = 0;
  };
  Unpushed unpushed(const std::string& tip);

  // refs/remotes/origin/<branch>
  std::string tracking_ref() const { return "refs/remotes/origin/" + m_branch; }

 private:
  struct Callbacks;
  // "<what> <url>: <why>" for libgit2's return code `rc`.
  std::string failure(const std::string& what, int rc);

  const RemoteConfig& m_config;
  std::string m_branch;
  git_repository* m_repo = nullptr;
  git_remote* m_handle = nullptr;  // looked up once (see the constructor)
  // Why the remote's host cannot be reached within connect_timeout, if so.
  std::optional<std::string> unreachable() const;

  std::string m_scheme;  // http, https; empty for SSH and disk
  std::string m_host;    // for the host key check and the connect timeout; empty on disk
  int m_port = 22;
  std::string m_auth_error;      // set by the callbacks: a clearer reason than libgit2's
  std::string m_push_rejection;  // the remote's reason for refusing the ref
};

}  // namespace calloutd
