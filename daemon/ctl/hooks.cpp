// calloutctl install-hooks: a git pre-commit hook that lints the write-ups a
// commit stages, so that a broken key or a name in the narrative never
// reaches the shared repository unnoticed.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "daemon/ctl/ctl.hpp"

namespace calloutd::ctl {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_marker = "# Written by calloutctl install-hooks.";

// `text` quoted for sh.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// Whether an executable named calloutctl is in $PATH.
bool calloutctl_in_path() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  for (std::size_t start = 0; start <= dirs.size();) {
    auto end = std::min(dirs.find(':', start), dirs.size());
    auto dir = dirs.substr(start, end - start);
    if (!dir.empty() && ::access((fs::path(dir) / "calloutctl").c_str(), X_OK) == 0) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

// How the hook runs calloutctl, with the comment that says why.
std::string calloutctl_call() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (calloutctl_in_path() || ec) {
    return "# calloutctl is looked up in PATH when the hook runs, not where it was built:\n"
           "# an upgrade or an install elsewhere is followed, and a build directory that\n"
           "# goes away does not break every commit.\n"
           "exec calloutctl";
  }
  return "# calloutctl was not in PATH when this hook was installed, so the hook names\n"
         "# the binary that installed it; run `calloutctl install-hooks --force` again\n"
         "# once calloutctl is in PATH, and the hook looks it up there.\n"
         "exec " +
         shell_quoted(self.string());
}

std::string hook_text() {
  return std::string("#!/bin/sh\n") + k_marker +
         "\n# Lints the staged callout.md and postmortem.md files; a lint error stops the\n"
         "# commit (git commit --no-verify skips it).\n"
         "files=$(git diff --cached --name-only --diff-filter=ACMR -- '*callout.md' "
         "'*postmortem.md')\n"
         "[ -z \"$files\" ] && exit 0\n" +
         calloutctl_call() + " lint --repo \"$(git rev-parse --show-toplevel)\" $files\n";
}

}  // namespace

std::string hooks_usage() {
  return R"(Usage: calloutctl install-hooks [--repo DIR] [--force]

Writes a git pre-commit hook into the callouts repository (default: the
current directory) that runs `calloutctl lint` on the write-ups a commit
stages. The hook runs calloutctl from PATH; only when calloutctl is not in
PATH at install time does it name the binary that installed it. An existing
pre-commit hook that calloutctl did not write is left alone unless --force
is given.
)";
}

int hooks_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "install-hooks", hooks_usage(), {"repo"}, ctx, exit, {"force"});
  if (!args) {
    return exit;
  }
  if (!args->positional.empty()) {
    ctx.err << "calloutctl install-hooks: unexpected argument \"" << args->positional.front()
            << "\"\n"
            << hooks_usage();
    return Exit::usage_error;
  }
  fs::path repo = args->get("repo").value_or(".");
  fs::path hooks = repo / ".git" / "hooks";
  if (!fs::is_directory(repo / ".git")) {
    ctx.err << "calloutctl install-hooks: \"" << repo.string() << "\" is not a git repository\n";
    return Exit::unavailable;
  }
  fs::path hook = hooks / "pre-commit";
  if (fs::exists(hook) && !args->has("force")) {
    std::ifstream in(hook);
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    if (second != k_marker) {
      ctx.err << "calloutctl install-hooks: " << hook.string()
              << " exists and was not written by calloutctl (--force replaces it)\n";
      return Exit::refused;
    }
  }
  std::error_code ec;
  fs::create_directories(hooks, ec);
  {
    std::ofstream out(hook, std::ios::trunc);
    out << hook_text();
    if (!out) {
      ctx.err << "calloutctl install-hooks: cannot write " << hook.string() << "\n";
      return Exit::unavailable;
    }
  }
  fs::permissions(hook, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  ctx.out << "installed " << hook.string() << ": commits that stage write-ups are linted\n";
  return Exit::ok;
}

}  // namespace calloutd::ctl
