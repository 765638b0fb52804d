// Hashes, base64 and constant-time comparison, from OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace calloutd {

std::string sha256_hex(std::string_view data);

// Base64 (RFC 4648, padded), with OpenSSL's codec. Decoding gives "" for
// text that is not base64.
std::string base64_encode(std::string_view data);
std::string base64_decode(std::string_view text);

// Compares without leaking where the inputs differ (CRYPTO_memcmp).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace calloutd
