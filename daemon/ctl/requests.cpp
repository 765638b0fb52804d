// calloutctl postmortem status, resolve and ack: requests about one incident
// through the daemon's API, journaled by the daemon before it answers.
#include <ostream>

#include "daemon/ctl/ctl.hpp"

namespace calloutd::ctl {

std::string postmortem_usage() {
  return R"(Usage:
  calloutctl postmortem status INCIDENT draft|in-review|published

Moves the incident's postmortem through its review (POST
/api/v1/incidents/INCIDENT/postmortem/status). Moving to in-review or
published is refused (exit 1) while the review gate misses something: each
missing item is printed (narrative sections, Authors, Action Items,
Reviewers, and for published every checklist box).
)";
}

std::string resolve_usage() {
  return R"(Usage:
  calloutctl resolve INCIDENT [--note TEXT]

Resolves an incident by hand (POST /api/v1/incidents/INCIDENT/resolve): a
callout opened with `calloutctl new`, or one none of whose alerts fires any
more. The timeline gets one entry with the note, how long it was open and
how soon it was acknowledged against the response targets. Refused (exit 1)
while alerts of the group fire: resolve or silence them in Alertmanager.
Resolving a resolved incident changes nothing.

  --note TEXT   what ended it, one line (at most 500 bytes)
)";
}

std::string ack_usage() {
  return R"(Usage:
  calloutctl ack INCIDENT [--person NAME]

Acknowledges an incident (POST /api/v1/incidents/INCIDENT/ack): someone has
taken it on, for the time to acknowledge against the response target. The
first acknowledgement counts (a PagerDuty acknowledgement, the first
Operations role taken, or this); later ones change nothing.

  --person NAME   takes Operations too when nobody holds it
)";
}

namespace {

// Sends `body` to the incident's `endpoint` and prints the daemon's answer:
// "accepted: ..." with `accepted`, "unchanged: <why>", or the refusal.
int request(Context& ctx, const std::string& what, const std::string& incident,
            const std::string& endpoint, const nlohmann::json& body, const std::string& accepted) {
  auto answer = api_post(ctx, "/api/v1/incidents/" + incident + "/" + endpoint, body);
  if (answer.status == 202) {
    ctx.out << "accepted: " << accepted << "\n";
    return Exit::ok;
  }
  if (answer.status == 200 && answer.body.is_object() &&
      answer.body.value("status", "") == "unchanged") {
    ctx.out << "unchanged: " << answer.body.value("reason", incident) << "\n";
    return Exit::ok;
  }
  if (answer.error.empty()) {
    answer.error = "unexpected answer HTTP " + std::to_string(answer.status);
  }
  return report_failure(ctx, what, answer);
}

}  // namespace

int postmortem_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "postmortem", postmortem_usage(), {}, ctx, exit);
  if (!args) {
    return exit;
  }
  const auto& words = args->positional;
  if (words.size() != 3 || words[0] != "status") {
    ctx.err << "calloutctl postmortem: expected status, an incident and draft, in-review or "
               "published\n"
            << postmortem_usage();
    return Exit::usage_error;
  }
  // The command line's in-review is the template's "in review".
  const std::string& wanted = words[2];
  const std::string status = wanted == "in-review" ? "in review" : wanted;
  if (status != "draft" && status != "in review" && status != "published") {
    ctx.err << "calloutctl postmortem: \"" << wanted << "\" is not draft, in-review or published\n"
            << postmortem_usage();
    return Exit::usage_error;
  }
  return request(ctx, "postmortem status", words[1], "postmortem/status", {{"status", status}},
                 "the postmortem of " + words[1] + " moves to \"" + status +
                     "\" (the daemon records it in the callout's timeline)");
}

int resolve_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "resolve", resolve_usage(), {"note"}, ctx, exit);
  if (!args) {
    return exit;
  }
  if (args->positional.size() != 1) {
    ctx.err << "calloutctl resolve: expected one incident\n" << resolve_usage();
    return Exit::usage_error;
  }
  const auto& incident = args->positional[0];
  return request(ctx, "resolve", incident, "resolve", {{"note", args->get("note").value_or("")}},
                 incident +
                     " resolved (the daemon records it in the callout's timeline and "
                     "Status)");
}

int ack_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "ack", ack_usage(), {"person"}, ctx, exit);
  if (!args) {
    return exit;
  }
  if (args->positional.size() != 1) {
    ctx.err << "calloutctl ack: expected one incident\n" << ack_usage();
    return Exit::usage_error;
  }
  const auto& incident = args->positional[0];
  return request(ctx, "ack", incident, "ack", {{"person", args->get("person").value_or("")}},
                 incident + " acknowledged (the daemon records it in the callout's timeline)");
}

}  // namespace calloutd::ctl
