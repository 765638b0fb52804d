#include "daemon/http/http_listener.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <list>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/base/keep_running.hpp"
#include "daemon/base/log.hpp"
#include "daemon/http/stream.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using boost::system::error_code;

// Request heads larger than this get 431: Alertmanager's and PagerDuty's are
// well under 2 KiB.
constexpr std::size_t k_max_header_bytes = 16 * 1024;
// What a connection may hold unparsed at once: a head, or a chunk's size line
// with its extensions, or the trailer. The parser takes body bytes out of the
// buffer as they come, so only framing waiting for its CRLF piles up here; a
// client that sends more of it than this gets a 400 without authenticating.
// (Beast throws past 64 KiB in one trailer field: this keeps far below.)
constexpr std::size_t k_max_buffered_bytes = 2 * k_max_header_bytes;
constexpr std::size_t k_io_threads = 2;
constexpr std::size_t k_worker_threads = 8;

bool segment_ok(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
  });
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The "{}" segments of `pattern` that `path` fills, or nothing when it does not match.
std::optional<std::vector<std::string>> match(const std::string& pattern, std::string_view path) {
  auto want = split_path(pattern);
  auto have = split_path(path);
  if (want.size() != have.size()) {
    return std::nullopt;
  }
  std::vector<std::string> params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      if (!segment_ok(have[i])) {
        return std::nullopt;
      }
      params.emplace_back(have[i]);
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return params;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

// A body encoding the receivers cannot take: anything but identity. Refused
// (415) rather than inflated, so that a small body never becomes a large one.
bool encoded(const HttpRequest& head) {
  auto value = lower(head.header("content-encoding"));
  return !value.empty() && value != "identity";
}

HttpResponse too_large(const HttpRoute& route) {
  return HttpResponse::error(
      413, "request body too large (" +
               (route.max_body_key.empty() ? std::string("the limit") : route.max_body_key) +
               " is " + std::to_string(route.max_body) + ")");
}

HttpResponse framing_too_large() {
  return HttpResponse::error(400,
                             "malformed request body: a chunk extension or trailer "
                             "over " +
                                 std::to_string(k_max_buffered_bytes) + " bytes");
}

}  // namespace

std::string HttpRequest::header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string{} : it->second;
}

HttpResponse HttpResponse::error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse HttpResponse::text(const std::string& body, int status) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = body;
  return r;
}

Result<std::pair<std::string, int>> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Error{"listen address \"" + address + "\" has no port (use HOST:PORT)"};
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1) {
      port = -1;
    }
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) {
    return Error{"listen address \"" + address + "\" has a bad port"};
  }
  return std::pair{host.empty() ? std::string("0.0.0.0") : host, port};
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// One client connection. Its socket lives on a strand: the session's
// coroutine and a close from another thread (eviction, stop) never race.
struct Connection {
  Connection(tcp::socket socket, TlsContext tls) : stream(std::move(socket), std::move(tls)) {}
  http_detail::Stream stream;
  std::string client;  // the peer's address, the unit of the per-client cap
  // waiting: for a request's first byte (may be closed to make room);
  // reading: a request not yet complete (nothing acknowledged; closed at stop);
  // busy: handling or answering a request.
  enum class Phase { waiting, reading, busy };
  std::atomic<Phase> phase{Phase::waiting};
  bool first_request = true;

  // On the connection's strand. Under TLS without a close_notify: every
  // answer carries its length, so the client knows it has it all.
  void close() {
    error_code ec;
    stream.tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.tcp().close();
  }
};

class HttpListener::Impl {
 public:
  Impl(HttpLimits limits, std::vector<HttpRoute> routes, Metrics& metrics)
      : m_limits(limits),
        m_routes(std::make_shared<const Routes>(std::move(routes))),
        m_metrics(metrics),
        m_acceptor(m_io),
        m_workers(k_worker_threads) {}

  Result<int> bind(const std::string& address);
  void run();
  void stop();
  void join_workers() { m_workers.join(); }
  void post(std::function<void()> task) { asio::post(m_io, std::move(task)); }
  void use_tls(TlsContext tls) {
    std::lock_guard lock(m_tls_mutex);
    m_tls = std::move(tls);
  }
  void set_routes(std::vector<HttpRoute> routes) {
    auto table = std::make_shared<const Routes>(std::move(routes));
    std::lock_guard lock(m_mutex);
    m_routes = std::move(table);
  }

 private:
  using Handle = std::shared_ptr<Connection>;
  using Routes = std::vector<HttpRoute>;
  // A connection's place in the registry, given up when this is destroyed
  // (a member type, not a local one: it lives in a coroutine's frame).
  struct Registered {
    Impl* impl;
    Handle c;
    ~Registered() {
      c->close();
      impl->forget_connection(c);
    }
  };
  struct Head {
    std::shared_ptr<const Routes> table;  // holds `route` while the request is served
    const HttpRoute* route = nullptr;
    std::optional<HttpResponse> refusal;  // answered without reading the body
  };

  asio::awaitable<void> accept_loop();
  bool admit_connection(const Handle& c);
  void forget_connection(const Handle& c);
  void refuse_connection(Connection& c, const char* reason);
  TlsContext current_tls() {
    std::lock_guard lock(m_tls_mutex);
    return m_tls;
  }
  asio::awaitable<bool> handshake(Handle c);
  enum class Next { another, close, drain_then_close };
  using Parser = http::request_parser<http::string_body>;
  asio::awaitable<void> serve(Handle c);
  asio::awaitable<Next> serve_one(Handle c, beast::flat_buffer& buffer);
  asio::awaitable<void> drain(Handle c);
  asio::awaitable<bool> wait_for_request(Handle c, beast::flat_buffer& buffer);
  Head route(HttpRequest& head);
  Head admit(HttpRequest& request, const Parser& parser);
  asio::awaitable<std::optional<Next>> read_head(Handle c, beast::flat_buffer& buffer,
                                                 Parser& parser);
  asio::awaitable<std::optional<Next>> read_body(Handle c, beast::flat_buffer& buffer,
                                                 Parser& parser, const HttpRoute& route);
  asio::awaitable<HttpResponse> on_worker(const HttpRoute* route, HttpRequest request);
  asio::awaitable<void> respond(Handle c, const HttpResponse& r, unsigned version, bool keep);
  void count_refusal(const HttpRoute* route, const char* outcome);

  HttpLimits m_limits;
  std::shared_ptr<const Routes> m_routes;  // replaced whole by set_routes(); under m_mutex
  Metrics& m_metrics;
  asio::io_context m_io;
  tcp::acceptor m_acceptor;
  asio::thread_pool m_workers;
  std::atomic<bool> m_stopping{false};
  std::mutex m_mutex;  // guards m_routes and the connection registry below
  std::list<Handle> m_connections;
  std::map<std::string, std::size_t> m_per_client;
  std::mutex m_tls_mutex;  // guards m_tls
  TlsContext m_tls;        // null: plain HTTP
};

Result<int> HttpListener::Impl::bind(const std::string& address) {
  auto hp = split_host_port(address);
  if (!hp) {
    return Error{hp.error()};
  }
  error_code ec;
  auto ip = asio::ip::make_address(hp->first == "localhost" ? "127.0.0.1" : hp->first, ec);
  if (ec) {
    return Error{"cannot listen on \"" + address + "\": \"" + hp->first +
                 "\" is not an IP address of this machine"};
  }
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(hp->second));
  m_acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    // SO_REUSEADDR only: a restart binds at once, a second daemon does not.
    m_acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) {
    m_acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    error_code ignored;
    m_acceptor.close(ignored);
    return Error{"cannot listen on \"" + address + "\": " + ec.message()};
  }
  return static_cast<int>(m_acceptor.local_endpoint().port());
}

void HttpListener::Impl::run() {
  asio::co_spawn(m_io, accept_loop(), asio::detached);
  // An exception out of a handler (a composed operation's, below any
  // coroutine's try) closes that connection only: the loop runs on.
  auto serve_io = [this] {
    keep_running(
        "http", [this] { m_io.run(); }, std::chrono::milliseconds(0));
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < k_io_threads; ++i) {
    threads.emplace_back(serve_io);
  }
  serve_io();
  for (auto& t : threads) {
    t.join();
  }
}

void HttpListener::Impl::stop() {
  if (m_stopping.exchange(true)) {
    return;
  }
  asio::post(m_io, [this] {
    error_code ec;
    m_acceptor.close(ec);
  });
  // Connections waiting for a request or in the middle of one hold nothing
  // acknowledged: close them. Those being answered finish and close (m_stopping).
  std::lock_guard lock(m_mutex);
  for (const auto& c : m_connections) {
    if (c->phase != Connection::Phase::busy) {
      asio::post(c->stream.get_executor(), [c] { c->close(); });
    }
  }
}

asio::awaitable<void> HttpListener::Impl::accept_loop() {
  asio::steady_timer pause(m_io);
  while (!m_stopping) {
    error_code ec;
    tcp::socket socket(asio::make_strand(m_io));
    co_await m_acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (m_stopping || ec == asio::error::operation_aborted) {
        co_return;
      }
      // Out of file descriptors, most likely: wait rather than spin.
      log::warn("cannot accept a connection", {{"error", ec.message()}});
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    auto c = std::make_shared<Connection>(std::move(socket), current_tls());
    error_code peer_ec;
    auto peer = c->stream.tcp().socket().remote_endpoint(peer_ec);
    c->client = peer_ec ? std::string("unknown") : peer.address().to_string();
    if (!admit_connection(c)) {
      continue;
    }
    auto executor = c->stream.get_executor();
    asio::co_spawn(executor, serve(std::move(c)), asio::detached);
  }
}

// Registers `c` unless a cap refuses it; at the total cap the oldest
// connection waiting for a request makes room.
bool HttpListener::Impl::admit_connection(const Handle& c) {
  std::lock_guard lock(m_mutex);
  if (m_per_client[c->client] >= m_limits.max_connections_per_client) {
    refuse_connection(*c, "client_limit");
    if (m_per_client[c->client] == 0) {
      m_per_client.erase(c->client);
    }
    return false;
  }
  if (m_connections.size() >= m_limits.max_connections) {
    auto idle = std::find_if(m_connections.begin(), m_connections.end(), [](const Handle& h) {
      return h->phase == Connection::Phase::waiting;
    });
    if (idle == m_connections.end()) {
      refuse_connection(*c, "connection_limit");
      return false;
    }
    auto victim = *idle;
    victim->phase = Connection::Phase::reading;  // closed once
    asio::post(victim->stream.get_executor(), [victim] { victim->close(); });
    m_metrics.count_http_idle_closed();
  }
  m_connections.push_back(c);
  ++m_per_client[c->client];
  m_metrics.set_http_connections(static_cast<double>(m_connections.size()));
  return true;
}

void HttpListener::Impl::forget_connection(const Handle& c) {
  std::lock_guard lock(m_mutex);
  auto it = std::find(m_connections.begin(), m_connections.end(), c);
  if (it == m_connections.end()) {
    return;
  }
  m_connections.erase(it);
  if (--m_per_client[c->client] == 0) {
    m_per_client.erase(c->client);
  }
  m_metrics.set_http_connections(static_cast<double>(m_connections.size()));
}

// A best-effort 503 without waiting for the client (non-blocking, one try),
// then close: a refused client costs no coroutine and no timer. Under TLS the
// answer would need a handshake first: the connection is only closed.
void HttpListener::Impl::refuse_connection(Connection& c, const char* reason) {
  static constexpr std::string_view k_answer =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Retry-After: 5\r\nConnection: close\r\nContent-Length: 47\r\n\r\n"
      "{\"error\":\"too many connections; retry later\"}\n";
  error_code ec;
  auto& socket = c.stream.tcp().socket();
  if (!c.stream.tls()) {
    socket.non_blocking(true, ec);
    ::send(socket.native_handle(), k_answer.data(), k_answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  m_metrics.count_http_refused(reason);
}

asio::awaitable<void> HttpListener::Impl::serve(Handle c) {
  // Closed and unregistered however the coroutine ends: normally, by an
  // exception, or destroyed with its frame when a handler below it threw.
  Registered registered{this, c};
  beast::flat_buffer buffer(k_max_buffered_bytes);
  try {
    auto next = Next::another;
    if (c->stream.tls() && !co_await handshake(c)) {
      next = Next::close;
    }
    while (next == Next::another && !m_stopping) {
      next = co_await serve_one(c, buffer);
    }
    if (next == Next::drain_then_close) {
      co_await drain(c);
    }
  } catch (const std::exception& e) {
    log::warn("HTTP connection failed", {{"remote", c->client}, {"error", e.what()}});
    m_metrics.count_http_connection_error("exception");
  }
}

// The TLS handshake, within `header_timeout`: a slow handshake holds a
// connection as a slow head does. A client speaking plain HTTP to the TLS
// port fails here, logged at debug (a scanner must not flood the log).
asio::awaitable<bool> HttpListener::Impl::handshake(Handle c) {
  c->stream.tcp().expires_after(m_limits.header_timeout);
  error_code ec;
  co_await c->stream.tls_stream().async_handshake(asio::ssl::stream_base::server,
                                                  asio::redirect_error(use_awaitable, ec));
  if (!ec) {
    co_return true;
  }
  if (ec == beast::error::timeout) {
    m_metrics.count_http_timeout("handshake");
  } else {
    log::debug("TLS handshake failed", {{"remote", c->client}, {"error", ec.message()}});
  }
  co_return false;
}

// After a refusal, the client may still be sending the body we will not
// read. Closing with unread bytes sends a reset, which can destroy our answer
// before the client reads it: stop sending, take (and drop) a little more for
// a moment, then close.
asio::awaitable<void> HttpListener::Impl::drain(Handle c) {
  constexpr std::size_t k_max_drained = 64 * 1024;
  error_code ec;
  // The bytes are dropped: read under TLS too, where they are records.
  c->stream.tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
  c->stream.tcp().expires_after(std::chrono::seconds(1));
  std::array<char, 4096> sink{};
  std::size_t drained = 0;
  while (!ec && drained < k_max_drained) {
    drained += co_await c->stream.tcp().async_read_some(asio::buffer(sink),
                                                        asio::redirect_error(use_awaitable, ec));
  }
}

// Waits for a request's first byte: `header_timeout` on a new connection,
// `idle_timeout` between keep-alive requests. False: the connection is done.
asio::awaitable<bool> HttpListener::Impl::wait_for_request(Handle c, beast::flat_buffer& buffer) {
  if (buffer.size() > 0) {
    c->phase = Connection::Phase::reading;
    co_return true;  // a pipelined request is already here
  }
  c->phase = Connection::Phase::waiting;
  c->stream.tcp().expires_after(c->first_request ? m_limits.header_timeout : m_limits.idle_timeout);
  error_code ec;
  auto n = co_await c->stream.async_read_some(buffer.prepare(4096),
                                              asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec == beast::error::timeout && c->first_request) {
      m_metrics.count_http_timeout("header");
    }
    co_return false;
  }
  buffer.commit(n);
  auto expected = Connection::Phase::waiting;
  // Unless a cap closed it meanwhile, it is reading a request now.
  co_return c->phase.compare_exchange_strong(expected, Connection::Phase::reading);
}

HttpListener::Impl::Head HttpListener::Impl::route(HttpRequest& head) {
  std::shared_ptr<const Routes> table;
  {
    std::lock_guard lock(m_mutex);
    table = m_routes;
  }
  bool path_known = false;
  std::string allowed;
  for (const auto& r : *table) {
    auto params = match(r.pattern, head.path);
    if (!params) {
      continue;
    }
    path_known = true;
    if (r.method == head.method) {
      head.params = std::move(*params);
      return {table, &r, std::nullopt};
    }
    allowed += (allowed.empty() ? "" : ", ") + r.method;
  }
  if (!path_known) {
    return {nullptr, nullptr, HttpResponse::error(404, "no such endpoint: " + excerpt(head.path))};
  }
  auto refusal = HttpResponse::error(405, "method not allowed (allowed: " + allowed + ")");
  refusal.headers.emplace_back("Allow", allowed);
  return {nullptr, nullptr, std::move(refusal)};
}

void HttpListener::Impl::count_refusal(const HttpRoute* route, const char* outcome) {
  if (route != nullptr && !route->receiver.empty()) {
    m_metrics.count_request(route->receiver, outcome);
  }
}

// The request's head as the routes see it (header names lower-case).
HttpRequest head_of(const http::request<http::string_body>& message, const std::string& client) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  auto target = std::string_view(message.target().data(), message.target().size());
  request.path = std::string(target.substr(0, target.find('?')));
  request.remote_addr = client;
  for (const auto& field : message) {
    auto name = field.name_string();
    request.headers[lower(std::string_view(name.data(), name.size()))] = std::string(field.value());
  }
  return request;
}

// Everything decided before the body is read: the route, its encoding and
// size, and the route's own admission (credentials).
HttpListener::Impl::Head HttpListener::Impl::admit(HttpRequest& request, const Parser& parser) {
  auto head = route(request);
  if (head.refusal) {
    return head;
  }
  const auto& r = *head.route;
  if (encoded(request)) {
    count_refusal(&r, "unsupported_encoding");
    head.refusal = HttpResponse::error(415, "Content-Encoding \"" +
                                                excerpt(request.header("content-encoding"), 40) +
                                                "\" is not accepted: send the body uncompressed");
    return head;
  }
  auto length = parser.content_length();
  if ((length && *length > r.max_body) || (r.max_body == 0 && parser.chunked())) {
    count_refusal(&r, "too_large");
    head.refusal = too_large(r);
    return head;
  }
  if (r.admit) {
    head.refusal = r.admit(request);
  }
  return head;
}

// Reads a request's head within `header_timeout`; what to do with the
// connection when that failed.
asio::awaitable<std::optional<HttpListener::Impl::Next>> HttpListener::Impl::read_head(
    Handle c, beast::flat_buffer& buffer, Parser& parser) {
  parser.header_limit(k_max_header_bytes);
  // The route's own limit once it is known (not boost::none: Beast 1.74 reads
  // that as 0 for a Content-Length).
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  error_code ec;
  c->stream.tcp().expires_after(m_limits.header_timeout);  // the whole head, however it trickles
  co_await http::async_read_header(c->stream, buffer, parser,
                                   asio::redirect_error(use_awaitable, ec));
  if (!ec) {
    co_return std::nullopt;
  }
  if (ec == http::error::header_limit) {
    co_await respond(c, HttpResponse::error(431, "request head too large"), 11, false);
  } else if (ec == beast::error::timeout) {
    m_metrics.count_http_timeout("header");
  } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
             ec != asio::error::connection_reset && ec != asio::error::operation_aborted &&
             ec != asio::ssl::error::stream_truncated) {  // TLS: closed without close_notify
    co_await respond(c, HttpResponse::error(400, "malformed request: " + ec.message()), 11, false);
  }
  co_return Next::close;
}

// Reads the body of an admitted request within `body_timeout`, at most the
// route's limit as received; what to do with the connection when that failed.
asio::awaitable<std::optional<HttpListener::Impl::Next>> HttpListener::Impl::read_body(
    Handle c, beast::flat_buffer& buffer, Parser& parser, const HttpRoute& route) {
  const unsigned version = parser.get().version();
  error_code ec;
  if (lower(std::string(parser.get()[http::field::expect])) == "100-continue") {
    http::response<http::empty_body> go_on{http::status::continue_, version};
    c->stream.tcp().expires_after(m_limits.write_timeout);
    co_await http::async_write(c->stream, go_on, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      co_return Next::close;
    }
  }
  parser.body_limit(route.max_body);
  c->stream.tcp().expires_after(m_limits.body_timeout);
  co_await http::async_read(c->stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
  if (!ec) {
    co_return std::nullopt;
  }
  if (ec == http::error::body_limit) {
    count_refusal(&route, "too_large");
    co_await respond(c, too_large(route), version, false);
    co_return Next::drain_then_close;
  }
  if (ec == http::error::buffer_overflow) {
    count_refusal(&route, "bad_request");
    m_metrics.count_http_connection_error("framing_limit");
    co_await respond(c, framing_too_large(), version, false);
    co_return Next::drain_then_close;
  }
  if (ec == beast::error::timeout) {
    m_metrics.count_http_timeout("body");
  } else {
    co_await respond(c, HttpResponse::error(400, "malformed request body: " + ec.message()),
                     version, false);
  }
  co_return Next::close;
}

// Reads and answers one request; says what becomes of the connection.
asio::awaitable<HttpListener::Impl::Next> HttpListener::Impl::serve_one(
    Handle c, beast::flat_buffer& buffer) {
  if (!co_await wait_for_request(c, buffer)) {
    co_return Next::close;
  }
  c->first_request = false;
  Parser parser;
  if (auto failed = co_await read_head(c, buffer, parser)) {
    co_return *failed;
  }
  const unsigned version = parser.get().version();
  HttpRequest request = head_of(parser.get(), c->client);
  auto [table, route, refusal] = admit(request, parser);
  if (refusal) {
    // The body, if any, is never read: the connection cannot carry another request.
    co_await respond(c, *refusal, version, false);
    co_return Next::drain_then_close;
  }
  if (auto failed = co_await read_body(c, buffer, parser, *route)) {
    co_return *failed;
  }
  request.body = std::move(parser.get().body());
  const bool keep = parser.get().keep_alive() && !m_stopping;
  c->phase = Connection::Phase::busy;
  HttpResponse response;
  if (route->on_io_thread) {
    response = route->handle(request);
  } else {
    response =
        co_await asio::co_spawn(m_workers, on_worker(route, std::move(request)), use_awaitable);
  }
  co_await respond(c, response, version, keep);
  co_return keep ? Next::another : Next::close;
}

asio::awaitable<HttpResponse> HttpListener::Impl::on_worker(const HttpRoute* route,
                                                            HttpRequest request) {
  try {
    co_return route->handle(request);
  } catch (const std::exception& e) {
    log::error("request failed", {{"path", request.path}, {"error", e.what()}});
    co_return HttpResponse::error(500, std::string("internal error: ") + e.what());
  } catch (...) {
    log::error("request failed", {{"path", request.path}, {"error", "unknown exception"}});
    co_return HttpResponse::error(500, "internal error");
  }
}

asio::awaitable<void> HttpListener::Impl::respond(Handle c, const HttpResponse& r, unsigned version,
                                                  bool keep) {
  http::response<http::string_body> message{static_cast<http::status>(r.status), version};
  message.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    message.insert(name, value);
  }
  message.keep_alive(keep);
  message.body() = r.body;
  message.prepare_payload();
  c->stream.tcp().expires_after(m_limits.write_timeout);
  error_code ec;
  co_await http::async_write(c->stream, message, asio::redirect_error(use_awaitable, ec));
  if (ec == beast::error::timeout) {
    m_metrics.count_http_timeout("write");
  }
}

HttpListener::HttpListener(HttpLimits limits, std::vector<HttpRoute> routes, Metrics& metrics)
    : m_impl(std::make_unique<Impl>(limits, std::move(routes), metrics)) {}

HttpListener::~HttpListener() {
  stop();
  m_impl->join_workers();
}

Result<int> HttpListener::bind(const std::string& address) {
  return m_impl->bind(address);
}

void HttpListener::run() {
  m_impl->run();
}

void HttpListener::stop() {
  m_impl->stop();
}

void HttpListener::post(std::function<void()> task) {
  m_impl->post(std::move(task));
}

void HttpListener::use_tls(TlsContext tls) {
  m_impl->use_tls(std::move(tls));
}

void HttpListener::set_routes(std::vector<HttpRoute> routes) {
  m_impl->set_routes(std::move(routes));
}

}  // namespace calloutd
