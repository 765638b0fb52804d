// libFuzzer target: the PagerDuty receiver on arbitrary bodies and signature
// headers. The first line of the input is the X-PagerDuty-Signature header.
// Besides not crashing: every refusal says why, and the body signed with a
// configured secret verifies under it and under no other.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "receivers/pagerduty.hpp"

namespace {

// `v1=<hex HMAC-SHA256 of body under secret>`, as PagerDuty signs.
std::string sign(const std::string& body, const std::string& secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &size);
  std::string out = "v1=";
  for (unsigned int i = 0; i < size; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using calloutd::receivers::verify_pagerduty_signature;
  std::string input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  std::string header = input.substr(0, nl);
  std::string body = nl == std::string::npos ? "" : input.substr(nl + 1);
  verify_pagerduty_signature(body, header, {"secret", "another"});
  auto signature = sign(body, "secret");
  if (!verify_pagerduty_signature(body, signature, {"another", "secret"}) ||
      !verify_pagerduty_signature(body, "v1=00, " + signature, {"secret"}) ||
      verify_pagerduty_signature(body, signature, {"other"})) {
    std::abort();  // a good signature refused, or one accepted under the wrong secret
  }
  auto event = calloutd::receivers::parse_pagerduty(body);
  if (!event && event.error().empty()) {
    std::abort();  // every refusal must say why
  }
  if (event && (event->id.empty() || event->event_type.empty())) {
    std::abort();  // what is accepted can be deduplicated and dispatched
  }
  return 0;
}
