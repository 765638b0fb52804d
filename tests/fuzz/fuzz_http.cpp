// libFuzzer target: raw bytes through the real HTTP front (issue 25). One
// HttpServer on 127.0.0.1 serves the whole run with a fake submitter in
// place of the pipeline; each input is sent on a new connection, the write
// side is shut, and the answer is read until the server closes. Besides not
// crashing: no exception reaches an I/O thread's loop, every answer is an
// HTTP status line, and the server still answers a health check after
// every input. PagerDuty is on (its body is read before authentication) and
// Alertmanager asks for a token, so both sides of authentication are reached.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

#include "daemon/base/keep_running.hpp"
#include "daemon/base/log.hpp"
#include "daemon/http/http_server.hpp"

namespace {

using namespace calloutd;

// Takes every event, journals nothing; a duplicate is never recognised.
class NullSubmitter final : public Submitter {
 public:
  std::variant<std::uint64_t, Refusal> submit(std::string_view, std::string_view, Payload, bool,
                                              CopyKeys) override {
    return ++m_sequence;
  }
  std::optional<std::uint64_t> duplicate_of(const std::string&, const std::string&) const override {
    return std::nullopt;
  }
  std::optional<std::uint64_t> duplicate_of_body(const std::string&) const override {
    return std::nullopt;
  }
  std::vector<IncidentSummary> open_incidents() const override { return {}; }
  bool stuck() const override { return false; }
  std::vector<HeldGroup> held_groups() const override { return {}; }
  void run_on_strand(const std::function<void()>& task) override { task(); }

 private:
  std::atomic<std::uint64_t> m_sequence{0};
};

struct Front {
  Front() {
    log::set_level(log::Level::error);
    config.alertmanager_auth.bearer_token = "fuzz-token";
    config.pagerduty.enabled = true;
    config.pagerduty.secrets = {"fuzz-secret"};
    config.max_body_bytes = 64 * 1024;
    config.pagerduty.max_body_bytes = 64 * 1024;
    config.http.header_timeout = std::chrono::seconds(2);
    config.http.body_timeout = std::chrono::seconds(2);
    config.http.idle_timeout = std::chrono::seconds(2);
    config.http.write_timeout = std::chrono::seconds(2);
    server = std::make_unique<HttpServer>(config, submitter, metrics);
    auto bound = server->bind("127.0.0.1:0");
    if (!bound) {
      std::fprintf(stderr, "cannot listen: %s\n", bound.error().c_str());
      std::abort();
    }
    port = *bound;
    server->set_ready(true);
    thread = std::thread([this] { server->run(); });
  }

  Config config;
  NullSubmitter submitter;
  Metrics metrics;
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  int port = 0;
};

Front& front() {
  static auto* f = new Front();  // lives as long as the process: its threads never stop
  return *f;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = fd < 0 ? -1 : ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (rc != 0 && errno == EINTR) {
    // libFuzzer's timer signal interrupted it: the connect goes on; wait for it.
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&p, 1, 10000) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 &&
        error == 0) {
      rc = 0;
    }
  }
  if (rc != 0) {
    std::perror("connect");
    std::abort();
  }
  return fd;
}

// Sends `bytes` on a new connection, shuts the write side and returns what
// the server answers until it closes (at most 10 s).
std::string exchange(int port, std::string_view bytes) {
  int fd = connect_to(port);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 2000) <= 0) {
      break;
    }
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;  // the server answered early (413, 401) and closed
    }
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    char buffer[4096];
    auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

void fail(const char* what, const std::string& answer) {
  std::fprintf(stderr, "%s\n--- answer ---\n%s\n", what, answer.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& f = front();
  auto answer = exchange(f.port, std::string_view(reinterpret_cast<const char*>(data), size));
  // HTTP/1.0 requests are answered in HTTP/1.0.
  if (!answer.empty() && answer.rfind("HTTP/1.1 ", 0) != 0 && answer.rfind("HTTP/1.0 ", 0) != 0) {
    fail("an answer that is not an HTTP status line", answer);
  }
  if (!survived_exceptions().empty()) {
    fail("an exception reached an I/O thread's loop (see the log above)", answer);
  }
  auto health = exchange(f.port, "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  if (health.rfind("HTTP/1.1 200", 0) != 0) {
    fail("the server no longer answers a health check", health);
  }
  return 0;
}
