// OpenSSH known_hosts files, for checking the SSH remote's host key: plain and
// hashed (`|1|salt|hash`) host names, `[host]:port`, patterns with * and ?,
// negations. A host with entries none of which carries the key it presented
// is a mismatch, whatever the key type: never trusted, never added.
#pragma once

#include <string>
#include <string_view>

namespace calloutd {

enum class HostKeyStatus { known, unknown, mismatch };

// `key_blob` is the key in SSH wire format (what a known_hosts line holds in base64).
HostKeyStatus check_host_key(std::string_view known_hosts, const std::string& host, int port,
                             std::string_view key_blob);

// The line to append for a host and key (host name not hashed); key_type as
// OpenSSH names it ("ssh-ed25519").
std::string known_hosts_line(const std::string& host, int port, const std::string& key_type,
                             std::string_view key_blob);

// "SHA256:..." as `ssh-keygen -l` prints it.
std::string host_key_fingerprint(std::string_view key_blob);

}  // namespace calloutd
