// calloutctl: the engineers' command line for calloutd.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "daemon/ctl/ctl.hpp"

namespace {

using namespace calloutd::ctl;

std::string usage() {
  return R"(Usage: calloutctl [--url URL] [--token-file FILE] COMMAND [ARGS...]
       calloutctl --version

Commands:
  new                        open a callout by hand (through the daemon, or into --repo)
  list                       open incidents: severity, age, roles, handover due
  search [TEXT]              earlier callouts and their postmortems, grouped by issue
  lint [PATH...]             check write-ups against the template and the rules
  render PATH --format F     a write-up as styled HTML or PDF for the affected teams
  install-hooks              a git pre-commit hook that lints staged write-ups
  shift start|end|handover   take, leave or hand over a role of an open incident
  ack INCIDENT               acknowledge an incident (someone has taken it on)
  resolve INCIDENT           resolve an incident by hand (no alert of it fires)
  postmortem status INCIDENT draft|in-review|published
                             move a postmortem through its review

Options, before or after the command:
  --url URL          the daemon (default $CALLOUTD_URL, else http://127.0.0.1:9095)
  --token-file FILE  bearer token for the API (default $CALLOUTD_TOKEN_FILE); the
                     token the daemon's receivers.alertmanager section demands
  --version          calloutctl's version
  -h, --help         this text; `calloutctl COMMAND --help` (or -h) for a command's

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

// The command line split: the global options (--url, --token-file,
// --version, and --help before the command), the command word, and the
// command's own arguments. Global options are taken from anywhere up to a
// bare "--", so `calloutctl list --url U` works as `calloutctl --url U list`;
// -h means --help everywhere.
struct CommandLine {
  std::vector<std::string> global;
  std::optional<std::string> command;
  std::vector<std::string> rest;
};

CommandLine split_command_line(const std::vector<std::string>& all) {
  static const std::set<std::string> k_with_value{"--url", "--token-file"};
  CommandLine out;
  bool options_end = false;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::string a = all[i] == "-h" && !options_end ? "--help" : all[i];
    const std::string name = a.substr(0, a.find('='));
    const bool global = !options_end && (k_with_value.contains(name) || a == "--version" ||
                                         (a == "--help" && !out.command));
    if (global) {
      out.global.push_back(a);
      if (k_with_value.contains(a) && i + 1 < all.size()) {
        out.global.push_back(all[++i]);
      }
    } else if (!out.command && a.rfind("--", 0) == 0) {
      out.global.push_back(a);  // an unknown option before the command: Args::parse says so
    } else if (!out.command) {
      out.command = a;
    } else {
      options_end = options_end || a == "--";
      out.rest.push_back(a);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  auto line = split_command_line(std::vector<std::string>(argv + 1, argv + argc));
  auto args = Args::parse(line.global, {"url", "token-file"}, {"help", "version"});
  if (!args) {
    std::cerr << "calloutctl: " << args.error() << "\n" << usage();
    return Exit::usage_error;
  }
  if (args->has("version")) {
    std::cout << "calloutctl " << CALLOUTD_VERSION << "\n";
    return Exit::ok;
  }
  if (args->has("help") || !line.command) {
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
  const auto& command = *line.command;
  const auto& rest = line.rest;
  using Command = int (*)(const std::vector<std::string>&, Context&);
  static const std::map<std::string, Command> k_commands{
      {"new", new_command},         {"list", list_command},
      {"search", search_command},   {"lint", lint_command},
      {"render", render_command},   {"install-hooks", hooks_command},
      {"shift", shift_command},     {"ack", ack_command},
      {"resolve", resolve_command}, {"postmortem", postmortem_command}};
  if (auto it = k_commands.find(command); it != k_commands.end()) {
    return it->second(rest, ctx);
  }
  std::cerr << "calloutctl: unknown command \"" << command << "\"\n" << usage();
  return Exit::usage_error;
}
