// libFuzzer target: the PagerDuty receiver on arbitrary bodies and signature
// headers. The first line of the input is the X-PagerDuty-Signature header.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "receivers/pagerduty.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  std::string header = input.substr(0, nl);
  std::string body = nl == std::string::npos ? "" : input.substr(nl + 1);
  calloutd::receivers::verify_pagerduty_signature(body, header, {"secret", "another"});
  auto event = calloutd::receivers::parse_pagerduty(body);
  if (!event && event.error().empty()) {
    std::abort();  // every refusal must say why
  }
  if (event && event->is_incident() && event->incident_id.empty()) {
    std::abort();
  }
  return 0;
}
