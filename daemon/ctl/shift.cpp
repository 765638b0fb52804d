// calloutctl shift start|end|handover: the roles API from the command line.
#include <ostream>

#include "daemon/base/duration.hpp"
#include "daemon/base/timefmt.hpp"
#include "daemon/ctl/ctl.hpp"

namespace calloutd::ctl {

std::string shift_usage() {
  return R"(Usage:
  calloutctl shift start INCIDENT --person NAME [--role ROLE] [--at TIME | --ago DURATION]
  calloutctl shift end INCIDENT --person NAME [--role ROLE] [--at TIME | --ago DURATION]
  calloutctl shift handover INCIDENT --from NAME --to NAME [--role ROLE] [--at TIME | --ago DURATION]

Takes, leaves or hands over a role of an open incident through the daemon's
roles API (POST /api/v1/incidents/INCIDENT/roles). The daemon records it as a
timeline entry, updates Team roles and starts or ends the person's shift.
`end` is refused (exit 1, naming the holder) when the person does not hold
the role. `start --at/--ago` for someone who already holds the role moves
their start earlier (the 4-hour rule counts from the earliest start).
INCIDENT is the Incident Number of the callout (calloutctl list shows them).

  --role ROLE       Incident Lead, Operations (default), Secondary, Planning,
                    Communications or Manager
  --at TIME         when it happened, RFC 3339 (2026-11-22T03:00:00Z); default now
  --ago DURATION    when it happened, that long ago (90m, 4h)
)";
}

namespace {

// The roles API request for `verb` (start, end or handover), without its
// time; the problem when the options do not fit the verb.
Result<nlohmann::json> role_change(const Args& args, const std::string& verb) {
  nlohmann::json body{{"role", args.get("role").value_or("Operations")}};
  if (verb == "start" || verb == "end") {
    auto person = args.get("person");
    if (!person) {
      return Error{"--person is required"};
    }
    body["action"] = verb == "start" ? "join" : "leave";
    body["person"] = *person;
  } else if (verb == "handover") {
    auto from = args.get("from");
    auto to = args.get("to");
    if (!from || !to) {
      return Error{"--from and --to are required"};
    }
    body["action"] = "handover";
    body["person"] = *from;
    body["to"] = *to;
  } else {
    return Error{"unknown shift command \"" + verb + "\""};
  }
  return body;
}

// Sets the request's "at" from --at or --ago (absent: the daemon takes now);
// the problem when they are both given or malformed.
Result<Ok> set_time(const Args& args, nlohmann::json& body) {
  if (args.has("at") && args.has("ago")) {
    return Error{"--at and --ago exclude each other"};
  }
  if (auto at = args.get("at")) {
    auto t = parse_rfc3339(*at);
    if (!t || *t == TimePoint{}) {
      return Error{"--at: \"" + *at + "\" is not an RFC 3339 time"};
    }
    body["at"] = format_rfc3339_millis(*t);
  } else if (auto ago = args.get("ago")) {
    auto d = parse_duration(*ago);
    if (!d) {
      return Error{"--ago: " + d.error()};
    }
    body["at"] = format_rfc3339_millis(std::chrono::system_clock::now() - *d);
  }
  return Ok{};
}

}  // namespace

int shift_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "shift", shift_usage(),
                           {"person", "from", "to", "role", "at", "ago"}, ctx, exit);
  if (!args) {
    return exit;
  }
  auto usage = [&](const std::string& problem) {
    ctx.err << "calloutctl shift: " << problem << "\n" << shift_usage();
    return Exit::usage_error;
  };
  if (args->positional.size() != 2) {
    return usage("expected start, end or handover and an incident");
  }
  const auto& verb = args->positional[0];
  const auto& incident = args->positional[1];
  auto body = role_change(*args, verb);
  if (!body) {
    return usage(body.error());
  }
  if (auto timed = set_time(*args, *body); !timed) {
    return usage(timed.error());
  }
  auto answer = api_post(ctx, "/api/v1/incidents/" + incident + "/roles", *body);
  if (answer.status != 202) {
    return report_failure(ctx, "shift " + verb, answer);
  }
  ctx.out << "accepted: " << verb << " " << (*body)["role"].get<std::string>() << " on "
          << incident;
  if (body->contains("at")) {
    ctx.out << " at " << (*body)["at"].get<std::string>();
  }
  ctx.out << " (the daemon records it in the callout's timeline and Team roles)\n";
  return Exit::ok;
}

}  // namespace calloutd::ctl
