// libFuzzer target: the incidents API's request bodies. Every refusal says
// why; what is accepted is what the handlers journal.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/http/api_requests.hpp"
#include "daemon/writeup/postmortem.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  auto now = std::chrono::system_clock::now();
  auto role = calloutd::parse_role_request(body, "mysql-lag-2026-11-30", now);
  if (!role && role.error().empty()) {
    std::abort();
  }
  if (role && (role->person.empty() || (role->at && *role->at > now))) {
    std::abort();
  }
  auto manual = calloutd::parse_manual_incident(body, now);
  if (!manual && manual.error().empty()) {
    std::abort();
  }
  if (manual && (manual->technology.empty() || manual->summary.empty() ||
                 (manual->severity != "MPI" && manual->severity != "HPI"))) {
    std::abort();
  }
  auto status = calloutd::parse_postmortem_status(body);
  if (!status && status.error().empty()) {
    std::abort();
  }
  return 0;
}
