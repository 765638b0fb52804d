#include "daemon/http/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace calloutd {
namespace {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

int protocol_version(const std::string& name) {
  if (name == "TLS10") {
    return TLS1_VERSION;
  }
  if (name == "TLS11") {
    return TLS1_1_VERSION;
  }
  if (name == "TLS13") {
    return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// OpenSSL's own words for what went wrong ("no start line (PEM routines)"):
// Boost 1.74 gives only "asio.ssl error" for OpenSSL 3's codes.
std::string file_error(const char* key, const std::string& path, const error_code& ec) {
  std::string reason = ec.message();
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const auto code = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
    const char* r = ERR_reason_error_string(code);
    const char* lib = ERR_lib_error_string(code);
    reason = std::string(r != nullptr ? r : "unknown reason") +
             (lib != nullptr ? " (" + std::string(lib) + ")" : "");
  }
  return std::string(key) + " \"" + path + "\": " + reason;
}

// A file OpenSSL will read, checked first so that a missing one says so plainly.
Result<Ok> readable(const char* key, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    return Error{std::string(key) + " \"" + path + "\": cannot read (" + std::strerror(errno) +
                 ")"};
  }
  return Ok{};
}

// Go's client_auth_type on OpenSSL: whether a certificate is asked for,
// required, and checked against client_ca_file.
Result<Ok> set_client_auth(ssl::context& ctx, const TlsServerConfig& tls) {
  const auto& type = tls.client_auth_type;
  if (type == "NoClientCert") {
    ctx.set_verify_mode(ssl::verify_none);
    return Ok{};
  }
  const bool required = type == "RequireAnyClientCert" || type == "RequireAndVerifyClientCert";
  ctx.set_verify_mode(ssl::verify_peer | (required ? ssl::verify_fail_if_no_peer_cert : 0));
  if (!verifies_client_certs(type)) {
    // Asked for (and required) but not checked, as Go does for these two.
    ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
    return Ok{};
  }
  error_code ec;
  ctx.load_verify_file(tls.client_ca_file, ec);
  if (ec) {
    return Error{file_error("client_ca_file", tls.client_ca_file, ec)};
  }
  // Tell clients which CA their certificate must come from.
  if (auto* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
    SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
  }
  return Ok{};
}

Result<Ok> load_certificate(ssl::context& ctx, const TlsServerConfig& tls) {
  for (auto [key, path] :
       {std::pair{"cert_file", &tls.cert_file}, std::pair{"key_file", &tls.key_file},
        std::pair{"client_ca_file", &tls.client_ca_file}}) {
    if (auto ok = path->empty() ? Result<Ok>(Ok{}) : readable(key, *path); !ok) {
      return ok;
    }
  }
  error_code ec;
  ctx.use_certificate_chain_file(tls.cert_file, ec);
  if (ec) {
    return Error{file_error("cert_file", tls.cert_file, ec)};
  }
  ctx.use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) {
    return Error{file_error("key_file", tls.key_file, ec)};
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return Error{"key_file \"" + tls.key_file + "\" does not match cert_file \"" + tls.cert_file +
                 "\""};
  }
  return Ok{};
}

}  // namespace

Result<TlsContext> tls_context(const TlsServerConfig& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, protocol_version(tls.min_version));
  if (!tls.max_version.empty()) {
    SSL_CTX_set_max_proto_version(native, protocol_version(tls.max_version));
  }
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  // Needed once client certificates are asked for: a resumed session must
  // belong to this server's verification settings.
  static constexpr unsigned char k_session_context[] = "calloutd";
  SSL_CTX_set_session_id_context(native, k_session_context, sizeof(k_session_context) - 1);
  if (auto loaded = load_certificate(*ctx, tls); !loaded) {
    return Error{loaded.error()};
  }
  if (auto auth = set_client_auth(*ctx, tls); !auth) {
    return Error{auth.error()};
  }
  return ctx;
}

Result<TlsContext> load_tls(const std::string& web_config_file) {
  if (web_config_file.empty()) {
    return TlsContext{};
  }
  auto loaded = load_web_config(web_config_file);
  if (!loaded.errors.empty()) {
    std::string all;
    for (const auto& e : loaded.errors) {
      all += (all.empty() ? "" : "\n") + e;
    }
    return Error{all};
  }
  if (!loaded.config.tls) {
    return TlsContext{};
  }
  return tls_context(*loaded.config.tls);
}

}  // namespace calloutd
