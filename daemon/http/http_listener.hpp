// The HTTP transport under calloutd's endpoints, on Boost.Beast over Asio.
// One coroutine a connection: a slow or idle client costs a socket and a
// buffer, never a thread. What a client may hold is bounded before any work
// is done for it:
// - the whole request head must arrive within `header_timeout` of its first
//   byte (a trickle does not reset it), the body within `body_timeout`;
// - a route decides from the head alone (authentication, Content-Length,
//   Content-Encoding) before a byte of the body is read; the body limit is
//   counted on the bytes received, chunked or not;
// - connections per client address and in all are capped; when the cap is
//   reached, idle keep-alive connections are closed first.
// Handlers run on a pool of worker threads (they journal with fsync and wait
// for the engine); health checks are answered on the I/O threads, so they
// answer whatever the workers are doing.
#pragma once

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/result.hpp"
#include "daemon/config/config.hpp"
#include "daemon/http/tls.hpp"

namespace calloutd {

class Metrics;

struct HttpRequest {
  std::string method;               // "GET", "POST"
  std::string path;                 // without the query string
  std::vector<std::string> params;  // the path segments a route's "{}" matched
  std::string remote_addr;
  std::string body;
  // Header names are lower-case.
  std::map<std::string, std::string> headers;
  std::string header(const std::string& lower_case_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // `{"error": message}` with `status`.
  static HttpResponse error(int status, const std::string& message);
  static HttpResponse text(const std::string& body, int status = 200);
};

struct HttpRoute {
  std::string method;
  // Segments separated by '/'; "{}" matches one segment of [A-Za-z0-9_.-].
  std::string pattern;
  // The body a request may carry, in bytes as received (0: none), and the
  // setting that says so (named in the 413).
  std::size_t max_body = 0;
  std::string max_body_key;
  // Checked on the head, before the body is read: a response refuses the
  // request (401) and the connection is closed without reading further.
  std::function<std::optional<HttpResponse>(const HttpRequest& head)> admit;
  std::function<HttpResponse(const HttpRequest&)> handle;
  // Cheap and never blocking: answered on the I/O thread.
  bool on_io_thread = false;
  // Requests refused by the transport (too large, unsupported encoding,
  // timed out) are counted as this receiver's requests when set.
  std::string receiver;
};

class HttpListener {
 public:
  HttpListener(HttpLimits limits, std::vector<HttpRoute> routes, Metrics& metrics);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds `address` (`HOST:PORT`; port 0 picks a free one). A port in use is
  // an error (no SO_REUSEPORT: a second daemon must not share the port).
  Result<int> bind(const std::string& address);
  // Serves until stop(); blocks the calling thread.
  void run();
  // Stops accepting, closes connections waiting for a request, lets the
  // requests being handled finish, then makes run() return. Thread-safe.
  void stop();
  // Runs `task` on an I/O thread (the watchdog's probe). Thread-safe.
  void post(std::function<void()> task);
  // Serves TLS with `tls` from the next accepted connection on (nullptr:
  // plain HTTP); connections already open keep what they were accepted with.
  // Thread-safe, callable while serving (a reload).
  void use_tls(TlsContext tls);
  // Serves `routes` from the next request on (a reload); requests already
  // routed finish on the old ones. Thread-safe.
  void set_routes(std::vector<HttpRoute> routes);

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

// Splits `HOST:PORT` (`[::1]:9095` too). Error names the bad address.
Result<std::pair<std::string, int>> split_host_port(const std::string& address);
// Whether `host` (from split_host_port) is a loopback address or name.
bool is_loopback_host(const std::string& host);

}  // namespace calloutd
