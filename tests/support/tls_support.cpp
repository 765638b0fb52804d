#include "tests/support/tls_support.hpp"

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <stdexcept>

#include "tests/support/test_support.hpp"

namespace calloutd::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;

void openssl(const std::string& args) {
  int status = 0;
  auto out = run("openssl " + args + " 2>&1", &status);
  if (status != 0) {
    throw std::runtime_error("openssl " + args + " failed:\n" + out);
  }
}

constexpr const char* k_new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

std::string subject_of(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) {
    return "";
  }
  char buffer[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof buffer);
  X509_free(cert);
  return buffer;
}

void configure(ssl::context& ctx, const HttpsOptions& options) {
  if (options.ca_file.empty()) {
    ctx.set_default_verify_paths();
  } else {
    ctx.load_verify_file(options.ca_file.string());
  }
  ctx.set_verify_mode(ssl::verify_peer);
  if (!options.client.cert.empty()) {
    ctx.use_certificate_chain_file(options.client.cert.string());
    ctx.use_private_key_file(options.client.key.string(), ssl::context::pem);
  }
}

// Each step's error names the step: "handshake: certificate verify failed ...".
asio::awaitable<void> exchange(beast::ssl_stream<beast::tcp_stream>& stream, int port,
                               http::request<http::string_body> request, HttpsAnswer& answer,
                               std::string& error) {
  const char* step = "connect";
  try {
    co_await beast::get_lowest_layer(stream).async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                static_cast<unsigned short>(port)),
        asio::use_awaitable);
    step = "handshake";
    co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
    answer.server_subject = subject_of(stream.native_handle());
    step = "write";
    co_await http::async_write(stream, request, asio::use_awaitable);
    step = "read";
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    answer.status = static_cast<int>(response.result_int());
    answer.body = response.body();
  } catch (const boost::system::system_error& e) {
    error = std::string(step) + ": " + e.code().message();
  }
}

}  // namespace

TestCa::TestCa(const fs::path& dir) : m_dir(dir) {
  m_ca = {dir / "ca.pem", dir / "ca.key"};
  openssl(std::string("req -x509 ") + k_new_key + " -keyout " + m_ca.key.string() + " -out " +
          m_ca.cert.string() + " -days 2 -subj /CN=calloutd-test-ca");
}

CertPair TestCa::sign(const std::string& name, const std::string& extensions) const {
  CertPair pair{m_dir / (name + ".pem"), m_dir / (name + ".key")};
  auto csr = m_dir / (name + ".csr");
  auto ext = m_dir / (name + ".ext");
  write_file(ext, extensions);
  openssl(std::string("req ") + k_new_key + " -keyout " + pair.key.string() + " -out " +
          csr.string() + " -subj /CN=" + name);
  openssl("x509 -req -in " + csr.string() + " -CA " + m_ca.cert.string() + " -CAkey " +
          m_ca.key.string() + " -CAcreateserial -days 2 -out " + pair.cert.string() + " -extfile " +
          ext.string());
  return pair;
}

CertPair TestCa::server(const std::string& name) const {
  return sign(name, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
}

CertPair TestCa::client(const std::string& name) const {
  return sign(name, "extendedKeyUsage=clientAuth\n");
}

Result<HttpsAnswer> https_request(int port, const std::string& method, const std::string& target,
                                  const HttpsOptions& options, const std::string& body,
                                  const std::string& authorization) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  configure(ctx, options);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  request.set(http::field::content_type, "application/json");
  if (!authorization.empty()) {
    request.set(http::field::authorization, authorization);
  }
  request.body() = body;
  request.prepare_payload();
  HttpsAnswer answer;
  std::string error;
  bool done = false;
  asio::co_spawn(io, exchange(stream, port, std::move(request), answer, error),
                 [&](std::exception_ptr) { done = true; });
  io.run_for(options.timeout);
  if (!done) {
    return Error{"timed out after " + std::to_string(options.timeout.count()) + " s"};
  }
  if (!error.empty()) {
    return Error{error};
  }
  return answer;
}

}  // namespace calloutd::testing
