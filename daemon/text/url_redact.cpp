#include "daemon/text/url_redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace calloutd {
namespace {

constexpr std::string_view k_redacted = "REDACTED";

bool sensitive_parameter(std::string_view name) {
  static constexpr std::array<std::string_view, 14> k_names = {
      "auth_token",       "token",
      "access_token",     "api_key",
      "apikey",           "key",
      "password",         "passwd",
      "secret",           "sig",
      "signature",        "x-amz-signature",
      "x-amz-credential", "x-amz-security-token"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(k_names.begin(), k_names.end(), lower) != k_names.end();
}

// `text` (what follows a URL's host) with sensitive `name=value` values
// redacted. Pairs are split at `?`, `&`, `;` and `#`, so that parameters in
// the query, in matrix form (`/x;key=v`) and in the fragment (`#access_token=`,
// `#/view?token=`, as single-page apps and OAuth use it) are all seen.
std::string redact_parameters(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find_first_of("?&;#", start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    auto pair = text.substr(start, end - start);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && sensitive_parameter(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += k_redacted;
    } else {
      out += pair;
    }
    if (end < text.size()) {
      out += text[end];
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string redact_url_credentials(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0 ||
      url.substr(0, scheme_end).find_first_of("/?#") != std::string_view::npos) {
    return std::string(url);
  }
  const std::size_t authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) {
    authority_end = url.size();
  }
  std::string out(url.substr(0, authority_start));
  auto authority = url.substr(authority_start, authority_end - authority_start);
  // The host follows the last '@' (a password may itself hold an unencoded '@').
  auto at = authority.rfind('@');
  out += at == std::string_view::npos ? authority : authority.substr(at + 1);
  out += redact_parameters(url.substr(authority_end));
  return out;
}

}  // namespace calloutd
