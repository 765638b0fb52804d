// calloutctl: the engineers' command line for calloutd.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "daemon/ctl/ctl.hpp"

namespace {

using namespace calloutd::ctl;

std::string usage() {
  return R"(Usage: calloutctl [--url URL] [--token-file FILE] COMMAND [ARGS...]

Commands:
  new                        open a callout by hand (through the daemon, or --repo)
  list                       open incidents: severity, age, roles, handover due
  search [TEXT]              earlier callouts and their postmortems, grouped by issue
  lint [PATH...]             check write-ups against the template and the rules
  render PATH --format F     a write-up as styled HTML or PDF for the affected teams
  install-hooks              a git pre-commit hook that lints staged write-ups
  shift start|end|handover   take, leave or hand over a role of an open incident

Options before the command:
  --url URL          the daemon (default $CALLOUTD_URL, else http://127.0.0.1:9095)
  --token-file FILE  bearer token for the API (default $CALLOUTD_TOKEN_FILE); the
                     token the daemon's receivers.alertmanager section demands
  --help             this text; `calloutctl COMMAND --help` for a command's

Exit codes:
  0  done
  1  refused: the daemon said no (unknown incident, bad request, credentials)
  2  usage: the command line is wrong
  3  unavailable: the daemon cannot be reached or failed
)";
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all(argv + 1, argv + argc);
  // Global options come before the command word.
  std::size_t command_at = 0;
  while (command_at < all.size() && all[command_at].rfind("--", 0) == 0) {
    const auto& a = all[command_at];
    command_at += (a.find('=') == std::string::npos && a != "--help") ? 2 : 1;
  }
  command_at = std::min(command_at, all.size());
  std::vector<std::string> global(all.begin(), all.begin() + static_cast<long>(command_at));
  auto args = Args::parse(global, {"url", "token-file"}, {"help"});
  if (!args) {
    std::cerr << "calloutctl: " << args.error() << "\n" << usage();
    return Exit::usage_error;
  }
  if (args->has("help") || command_at == all.size()) {
    (args->has("help") ? std::cout : std::cerr) << usage();
    return args->has("help") ? Exit::ok : Exit::usage_error;
  }
  Context ctx{std::cout, std::cerr,
              args->get("url").value_or(env_or("CALLOUTD_URL", "http://127.0.0.1:9095")), ""};
  auto token_file = args->get("token-file").value_or(env_or("CALLOUTD_TOKEN_FILE", ""));
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) {
      std::cerr << "calloutctl: cannot read the token file \"" << token_file << "\"\n";
      return Exit::unavailable;
    }
    std::getline(in, ctx.token);
  }
  const auto& command = all[command_at];
  std::vector<std::string> rest(all.begin() + static_cast<long>(command_at) + 1, all.end());
  using Command = int (*)(const std::vector<std::string>&, Context&);
  static const std::map<std::string, Command> k_commands{
      {"new", new_command},    {"list", list_command},     {"search", search_command},
      {"lint", lint_command},  {"render", render_command}, {"install-hooks", hooks_command},
      {"shift", shift_command}};
  if (auto it = k_commands.find(command); it != k_commands.end()) {
    return it->second(rest, ctx);
  }
  std::cerr << "calloutctl: unknown command \"" << command << "\"\n" << usage();
  return Exit::usage_error;
}
