// Hashes and constant-time comparison, from OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace calloutd {

std::string sha256_hex(std::string_view data);

// Compares without leaking where the inputs differ (CRYPTO_memcmp).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace calloutd
