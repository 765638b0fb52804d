// Credentials that alert senders leave in URLs (http://user:pass@host/,
// ?auth_token=...) must not be committed: the callouts repository is read by
// everyone on the team and kept forever.
#pragma once

#include <string>
#include <string_view>

namespace calloutd {

// `url` without its userinfo (`user:pass@`), and with the value of every
// sensitive query parameter (auth_token, token, access_token, api_key, apikey,
// key, password, passwd, secret, sig, signature, X-Amz-Signature,
// X-Amz-Credential, X-Amz-Security-Token; names compared case-insensitively)
// replaced by `REDACTED`, in the query and in the fragment alike. Everything
// else is kept byte for byte. Text that is not an absolute URL (`scheme://...`)
// is returned as is.
std::string redact_url_credentials(std::string_view url);

}  // namespace calloutd
