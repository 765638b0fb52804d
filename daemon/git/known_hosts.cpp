#include "daemon/git/known_hosts.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re2/re2.h>

#include <sstream>
#include <vector>

#include "daemon/base/hash.hpp"

namespace calloutd {
namespace {

// The name known_hosts uses for a host: `host`, or `[host]:port` off port 22.
std::string host_name(const std::string& host, int port) {
  return port == 22 ? host : "[" + host + "]:" + std::to_string(port);
}

// `|1|salt|hash`: HMAC-SHA1 of the name under the salt.
bool hashed_matches(std::string_view entry, const std::string& name) {
  auto bar = entry.find('|', 3);
  if (bar == std::string_view::npos) {
    return false;
  }
  std::string salt = base64_decode(entry.substr(3, bar - 3));
  std::string hash = base64_decode(entry.substr(bar + 1));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (salt.empty() || HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()),
                           reinterpret_cast<const unsigned char*>(name.data()), name.size(), mac,
                           &mac_len) == nullptr) {
    return false;
  }
  return hash == std::string_view(reinterpret_cast<const char*>(mac), mac_len);
}

// OpenSSH's host patterns: `*` and `?` are the only special characters
// (brackets are literal: `[host]:port`); host names compare case-insensitively.
bool wildcard_matches(const std::string& pattern, const std::string& name) {
  std::string re = RE2::QuoteMeta(pattern);
  RE2::GlobalReplace(&re, R"(\\\*)", ".*");
  RE2::GlobalReplace(&re, R"(\\\?)", ".");
  RE2::Options options;
  options.set_case_sensitive(false);
  return RE2::FullMatch(name, RE2(re, options));
}

// Whether the comma-separated `patterns` name the host (a negated match wins).
bool hosts_match(std::string_view patterns, const std::string& name) {
  if (patterns.starts_with("|1|")) {
    return hashed_matches(patterns, name);
  }
  bool matched = false;
  std::stringstream ss{std::string(patterns)};
  std::string pattern;
  while (std::getline(ss, pattern, ',')) {
    bool negated = !pattern.empty() && pattern.front() == '!';
    if (negated) {
      pattern.erase(0, 1);
    }
    if (wildcard_matches(pattern, name)) {
      if (negated) {
        return false;
      }
      matched = true;
    }
  }
  return matched;
}

}  // namespace

HostKeyStatus check_host_key(std::string_view known_hosts, const std::string& host, int port,
                             std::string_view key_blob) {
  const std::string name = host_name(host, port);
  bool host_listed = false;
  bool known = false;
  bool revoked = false;
  std::stringstream lines{std::string(known_hosts)};
  std::string line;
  while (std::getline(lines, line)) {
    std::stringstream fields(line);
    std::string hosts, type, key;
    fields >> hosts;
    if (hosts.empty() || hosts.front() == '#') {
      continue;
    }
    if (hosts.front() == '@') {
      // @cert-authority lines sign host certificates, which libgit2 does not
      // show; a @revoked key is never accepted, wherever the line is.
      std::string marker = hosts;
      fields >> hosts >> type >> key;
      revoked = revoked || (marker == "@revoked" && base64_decode(key) == key_blob);
      continue;
    }
    fields >> type >> key;
    if (hosts_match(hosts, name)) {
      host_listed = true;
      known = known || base64_decode(key) == key_blob;
    }
  }
  if (revoked || (host_listed && !known)) {
    return HostKeyStatus::mismatch;
  }
  return known ? HostKeyStatus::known : HostKeyStatus::unknown;
}

std::string known_hosts_line(const std::string& host, int port, const std::string& key_type,
                             std::string_view key_blob) {
  return host_name(host, port) + " " + key_type + " " + base64_encode(key_blob) + "\n";
}

std::string host_key_fingerprint(std::string_view key_blob) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key_blob.data(), key_blob.size(), digest, &len, EVP_sha256(), nullptr);
  std::string b64 = base64_encode(std::string_view(reinterpret_cast<char*>(digest), len));
  while (!b64.empty() && b64.back() == '=') {
    b64.pop_back();
  }
  return "SHA256:" + b64;
}

}  // namespace calloutd
