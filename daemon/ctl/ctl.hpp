// calloutctl: the engineers' command line. Each command is a function from
// its arguments to an exit code; output goes to the streams in Context so
// that tests can run commands in process.
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/base/result.hpp"

namespace calloutd::ctl {

// Exit codes, documented in `calloutctl --help` and the man page.
enum Exit : int {
  ok = 0,
  refused = 1,      // the daemon refused the request, or lint found errors
  usage_error = 2,  // bad command line
  unavailable = 3,  // the daemon cannot be reached or failed; a file cannot be read
};

// `--name=value`, `--name value` and `--flag` options, then positional words.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;  // name without dashes -> values

  // Splits `argv`; options not in `with_value` or `flags` are errors.
  static Result<Args> parse(const std::vector<std::string>& argv,
                            const std::set<std::string>& with_value,
                            const std::set<std::string>& flags = {});
  std::optional<std::string> get(const std::string& name) const;
  bool has(const std::string& name) const { return options.contains(name); }
};

struct Context;

// A command's arguments. On a bad command line it prints the problem and
// `usage` and sets `exit` to usage_error; on --help it prints `usage` and
// sets `exit` to ok. Either way it returns nullopt and the caller returns `exit`.
std::optional<Args> command_args(const std::vector<std::string>& argv, const std::string& command,
                                 const std::string& usage, const std::set<std::string>& with_value,
                                 Context& ctx, int& exit, std::set<std::string> flags = {});

// A file's bytes, or nullopt when it cannot be read.
std::optional<std::string> read_text(const std::string& path);

struct Context {
  std::ostream& out;
  std::ostream& err;
  std::string url;    // the daemon's base URL
  std::string token;  // bearer token for the API, "" for none
};

// The daemon's HTTP API. `status` 0 when it could not be reached.
struct ApiAnswer {
  int status = 0;
  nlohmann::json body;
  std::string error;  // the transport's error, or the daemon's "error" field
};
ApiAnswer api_post(const Context& ctx, const std::string& path, const nlohmann::json& body);
ApiAnswer api_get(const Context& ctx, const std::string& path);
// Prints `what: error` for a failed answer, then each item the daemon listed
// ("missing", "details") on a line of its own, and maps it to an exit code.
int report_failure(const Context& ctx, const std::string& what, const ApiAnswer& answer);

int shift_command(const std::vector<std::string>& argv, Context& ctx);
std::string shift_usage();
int lint_command(const std::vector<std::string>& argv, Context& ctx);
std::string lint_usage();
int new_command(const std::vector<std::string>& argv, Context& ctx);
int list_command(const std::vector<std::string>& argv, Context& ctx);
int search_command(const std::vector<std::string>& argv, Context& ctx);
int render_command(const std::vector<std::string>& argv, Context& ctx);
int postmortem_command(const std::vector<std::string>& argv, Context& ctx);
std::string postmortem_usage();
int resolve_command(const std::vector<std::string>& argv, Context& ctx);
std::string resolve_usage();
int ack_command(const std::vector<std::string>& argv, Context& ctx);
std::string ack_usage();
int hooks_command(const std::vector<std::string>& argv, Context& ctx);
std::string hooks_usage();

}  // namespace calloutd::ctl
