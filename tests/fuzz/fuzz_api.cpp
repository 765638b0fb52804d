// libFuzzer target: the incidents API's receiver, on arbitrary input read
// both as a request body (roles, new incident, postmortem status, resolve, ack) and as a
// journal record (source "api"). Besides not crashing: every refusal says
// why, what is accepted holds to the API's rules, and a payload's journal
// record parses back to the same payload (what a replay applies is what was
// applied).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <variant>

#include "receivers/api.hpp"

namespace {

using namespace calloutd;

bool same(const RoleRequest& a, const RoleRequest& b) {
  return std::tie(a.incident_id, a.action, a.role, a.person, a.to, a.at) ==
         std::tie(b.incident_id, b.action, b.role, b.person, b.to, b.at);
}

bool same(const ManualIncident& a, const ManualIncident& b) {
  return std::tie(a.technology, a.issue, a.severity, a.summary, a.at) ==
         std::tie(b.technology, b.issue, b.severity, b.summary, b.at);
}

bool same(const PostmortemStatusChange& a, const PostmortemStatusChange& b) {
  return std::tie(a.incident_id, a.status) == std::tie(b.incident_id, b.status);
}

bool same(const ResolveRequest& a, const ResolveRequest& b) {
  return std::tie(a.incident_id, a.note) == std::tie(b.incident_id, b.note);
}

bool same(const AckRequest& a, const AckRequest& b) {
  return std::tie(a.incident_id, a.person) == std::tie(b.incident_id, b.person);
}

// The payload's record parses back to the same payload.
template <typename T>
void check_round_trip(const T& payload) {
  auto back = receivers::parse_api_record(receivers::api_record(payload));
  const T* same_kind = back ? std::get_if<T>(&*back) : nullptr;
  if (same_kind == nullptr || !same(*same_kind, payload)) {
    std::abort();
  }
}

// Refused with a reason, or accepted and its record round-trips.
template <typename T>
void check(const Result<T>& parsed) {
  if (!parsed && parsed.error().empty()) {
    std::abort();
  }
  if (parsed) {
    check_round_trip(parsed.value());
  }
}

void check_bodies(const std::string& body) {
  // Fixed, with nanoseconds, so that replays are deterministic and times are
  // cut to the journal's milliseconds.
  const TimePoint now = *parse_rfc3339("2026-12-01T08:30:00.123456789Z");
  auto role = receivers::parse_role_request(body, "mysql-lag-2026-11-30", now);
  if (role && (role->person.empty() || (role->at && *role->at > now))) {
    std::abort();
  }
  check(role);
  auto manual = receivers::parse_manual_incident(body, now);
  if (manual && (manual->technology.empty() || manual->summary.empty() ||
                 (manual->severity != "MPI" && manual->severity != "HPI"))) {
    std::abort();
  }
  check(manual);
  check(receivers::parse_postmortem_status(body, "mysql-lag-2026-11-30"));
  auto resolve = receivers::parse_resolve_request(body, "mysql-lag-2026-11-30");
  if (resolve && resolve->note.size() > receivers::k_max_note_bytes) {
    std::abort();
  }
  check(resolve);
  check(receivers::parse_ack_request(body, "mysql-lag-2026-11-30"));
}

void check_record(const std::string& record) {
  auto payload = receivers::parse_api_record(record);
  if (!payload) {
    if (payload.error().empty()) {
      std::abort();
    }
    return;
  }
  std::visit(
      [](const auto& p) {
        if constexpr (requires { receivers::api_record(p); }) {
          check_round_trip(p);
        } else {
          std::abort();  // an API record is never another receiver's payload
        }
      },
      *payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  check_bodies(input);
  check_record(input);
  return 0;
}
