// TLS for the HTTP listener, from the web-config file (config/web_config.hpp):
// an OpenSSL server context with the certificate, key and client-certificate
// policy it names. The files are read when these are called, so a reload that
// calls them again picks up a replaced certificate for the next handshake.
#pragma once

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "daemon/base/result.hpp"
#include "daemon/config/web_config.hpp"

namespace calloutd {

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

// A server context for `tls`, or an error naming the file and OpenSSL's reason
// (`cert_file "/etc/calloutd/cert.pem": no start line (PEM routines)`).
Result<TlsContext> tls_context(const TlsServerConfig& tls);

// The context `web_config_file` describes: nullptr when the path is empty or
// the file has no tls_server_config. The error holds every `FILE:LINE: message`
// of the file, one a line, or the reason tls_context() gave.
Result<TlsContext> load_tls(const std::string& web_config_file);

}  // namespace calloutd
