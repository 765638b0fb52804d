// The intake under attack: the daemon binary on 127.0.0.1, reached by raw
// sockets that trickle, idle, stream endless bodies or lie about their size.
// Sockets held open come from 127.0.0.2 and up, so that the per-client cap
// does not apply to the test's own requests from 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

#include "tests/support/daemon_process.hpp"

namespace calloutd {
namespace {

using testing::DaemonProcess;
using testing::git;
using testing::metric;
using testing::read_file;
using testing::sample;
using testing::TempDir;
using testing::write_file;

constexpr const char* k_config = R"(
repository:
  path: callouts
receivers:
  alertmanager:
    bearer_token_file: token
routes:
  - matchers: ['severity="warning"']
    severity: HPI
    technology: api
web:
  max_body_bytes: 65536
  read_header_timeout: 2s
  read_body_timeout: 3s
)";

// A plain TCP connection from `source` (an address on lo) to the daemon.
class RawSocket {
 public:
  RawSocket(const std::string& source, int port, int send_buffer = 0) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (send_buffer > 0) {
      ::setsockopt(m_fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
    }
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    ::bind(m_fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~RawSocket() { ::close(m_fd); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return m_connected; }
  // Sends what it can within 2 s; false once the peer closed or refused.
  bool send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      pollfd p{m_fd, POLLOUT, 0};
      if (::poll(&p, 1, 2000) <= 0) {
        return false;
      }
      auto n = ::send(m_fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      off += static_cast<std::size_t>(n);
      m_sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Everything until the peer closes, or `seconds` pass.
  std::string receive(double seconds) {
    std::string out;
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      char buf[4096];
      auto n = ::recv(m_fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Whether the peer closed the connection (EOF or reset), without waiting.
  bool closed_by_peer() {
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) {
      return false;
    }
    char c;
    return ::recv(m_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
  }
  std::size_t sent() const { return m_sent; }

 private:
  int m_fd = -1;
  bool m_connected = false;
  std::size_t m_sent = 0;
};

class IntakeTest : public ::testing::Test {
 protected:
  IntakeTest() {
    write_file(dir.path() / "calloutd.yml", k_config);
    write_file(dir.path() / "token", "example-bearer-token\n");
  }
  // A daemon whose Alertmanager receiver takes basic auth only.
  std::unique_ptr<DaemonProcess> start_with_basic_auth() {
    write_file(dir.path() / "calloutd.yml", R"(
repository:
  path: callouts
receivers:
  alertmanager:
    basic_auth:
      username: alertmanager
      password_file: password
)");
    write_file(dir.path() / "password", "example-password\n");
    return start();
  }
  // The config above with PagerDuty's receiver on too (signed: no credentials
  // are asked before the body is read).
  std::unique_ptr<DaemonProcess> start_with_pagerduty() {
    write_file(dir.path() / "pd.secret", "example-signing-secret\n");
    std::string config = k_config;
    config.replace(config.find("receivers:\n"), 11,
                   "receivers:\n  pagerduty:\n    signing_secret_files: [pd.secret]\n");
    write_file(dir.path() / "calloutd.yml", config);
    return start();
  }
  std::unique_ptr<DaemonProcess> start() {
    return std::make_unique<DaemonProcess>(dir.path(),
                                           std::vector<std::string>{"--config.file=calloutd.yml"});
  }
  int commits() const {
    int status = 0;
    auto out = git(dir.path() / "callouts", "rev-list --count main", &status);
    return status == 0 ? std::stoi(out) : 0;
  }
  std::string scrape(const DaemonProcess& d) const {
    auto r = d.client()->Get("/metrics");
    return r ? r->body : "";
  }

  const httplib::Headers bearer{{"Authorization", "Bearer example-bearer-token"}};
  const std::string post_head =
      "POST /api/v1/alertmanager HTTP/1.1\r\nHost: calloutd\r\n"
      "Authorization: Bearer example-bearer-token\r\nContent-Type: application/json\r\n";
  TempDir dir;
};

// Finding 1: 64 connections sending one byte at a time and 200 idle ones
// held 8 worker threads for 18-40 s; now a webhook and the health check are
// answered while they trickle, and the trickles are cut at the head deadline.
TEST_F(IntakeTest, TricklingAndIdleConnectionsDoNotStopService) {
  auto d = start();
  std::vector<std::unique_ptr<RawSocket>> trickles;
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 64; ++i) {
    trickles.push_back(
        std::make_unique<RawSocket>("127.0.0." + std::to_string(2 + i % 8), d->port()));
  }
  for (int i = 0; i < 200; ++i) {
    idle.push_back(
        std::make_unique<RawSocket>("127.0.0." + std::to_string(10 + i % 20), d->port()));
  }
  // One byte of a request head per socket every 100 ms (bounded: 200 bytes).
  std::atomic<bool> done{false};
  std::jthread trickler([&] {
    const std::string head = "POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    for (std::size_t at = 0; !done && at < 200; ++at) {
      for (auto& s : trickles) {
        s->send(std::string(1, head[std::min(at, head.size() - 1)]));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  struct Stop {
    std::atomic<bool>& done;
    ~Stop() { done = true; }
  } stop{done};
  auto started = std::chrono::steady_clock::now();
  auto health = d->client()->Get("/-/healthy");
  auto webhook = d->post_alertmanager(sample("am-0.25-firing-two-alerts.json"), bearer);
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  ASSERT_TRUE(webhook);
  EXPECT_EQ(webhook->status, 200) << webhook->body;
  EXPECT_LT(took, 5.0) << "answers waited behind the trickling connections";
  // The trickles never finish a head: each is closed at its deadline (2 s).
  EXPECT_TRUE(testing::eventually(10, [&] {
    return std::all_of(trickles.begin(), trickles.end(),
                       [](const auto& s) { return s->closed_by_peer(); });
  }));
  EXPECT_GE(metric(scrape(*d), "calloutd_http_request_timeouts_total{phase=\"header\"}"), 64);
  EXPECT_TRUE(testing::eventually(10, [&] { return commits() >= 1; }));
}

// A client address holds at most web.max_connections_per_client connections;
// others are refused with 503 while it holds them, and the rest of the world
// is still served.
TEST_F(IntakeTest, ConnectionsPerClientAreCapped) {
  write_file(dir.path() / "calloutd.yml",
             std::string(k_config) + "  max_connections_per_client: 4\n");
  auto d = start();
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawSocket>("127.0.0.2", d->port()));
  }
  // Registered once the daemon has seen them: the fifth is refused.
  ASSERT_TRUE(testing::eventually(5, [&] {
    return metric(scrape(*d), "calloutd_http_connections_open") >= 5;  // 4 + the scrape
  }));
  RawSocket fifth("127.0.0.2", d->port());
  auto answer = fifth.receive(5);
  EXPECT_NE(answer.find("503"), std::string::npos) << answer;
  EXPECT_EQ(metric(scrape(*d), "calloutd_http_connections_refused_total{reason=\"client_limit\"}"),
            1);
  auto health = d->client()->Get("/-/healthy");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// Finding 2: a chunked body was buffered whole (2.15 GB before the 401), and
// an authenticated one passed max_body_bytes. Now the 401 comes before the
// body is read, and a chunked body is cut at the limit, counted on the bytes
// received: the client gets to send at most the limit plus what the kernel's
// buffers hold, never the 100 MB it tries to.
TEST_F(IntakeTest, ChunkedBodiesAreBoundedBeforeAndAfterAuthentication) {
  auto d = start();
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";  // 64 KiB
  const std::size_t limit = 65536;
  const std::size_t kernel_buffers = 4 * 1024 * 1024;
  for (bool authenticated : {false, true}) {
    RawSocket s("127.0.0.2", d->port(), 16 * 1024);
    std::string head =
        authenticated ? post_head : "POST /api/v1/alertmanager HTTP/1.1\r\nHost: calloutd\r\n";
    ASSERT_TRUE(s.send(head + "Transfer-Encoding: chunked\r\n\r\n"));
    for (int i = 0; i < 1600 && s.send(chunk); ++i) {  // 100 MB at most
    }
    auto answer = s.receive(5);
    EXPECT_LT(s.sent(), limit + kernel_buffers) << "authenticated: " << authenticated;
    if (!answer.empty()) {  // a reset may take the answer with it; the bound is what counts
      EXPECT_NE(answer.find(authenticated ? " 413 " : " 401 "), std::string::npos) << answer;
    }
  }
  auto health = d->client()->Get("/-/healthy");
  ASSERT_TRUE(health);
  EXPECT_EQ(commits(), 0);
}

// Issue 25, finding 1: a trailer field of 64 KiB made Beast throw inside its
// composed read, past every try, and the process aborted (exit 134), with no
// credentials on PagerDuty's endpoint (its signature is checked after the
// body). Now the trailer is refused with a 400 and the daemon serves on.
TEST_F(IntakeTest, AHugeTrailerIsA400AndTheDaemonServesOn) {
  auto d = start_with_pagerduty();
  const std::string trailer = "0\r\nX-T: " + std::string(65536, 'a') + "\r\n\r\n";
  for (const std::string& head :
       {std::string("POST /api/v1/pagerduty HTTP/1.1\r\nHost: x\r\n"), post_head}) {
    RawSocket s("127.0.0.2", d->port());
    ASSERT_TRUE(s.connected());
    s.send(head + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n" + trailer);
    auto answer = s.receive(5);
    EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << answer;
    EXPECT_NE(answer.find("trailer"), std::string::npos) << answer;
    auto health = d->client()->Get("/-/healthy");
    ASSERT_TRUE(health) << "the daemon died: " << d->log();
    EXPECT_EQ(health->status, 200);
  }
  EXPECT_EQ(metric(scrape(*d), R"(calloutd_http_connection_errors_total{reason="framing_limit"})"),
            2);
  EXPECT_EQ(commits(), 0);
}

// Issue 25, finding 2: chunk extensions and trailers were buffered without
// limit until a CRLF came (1 GiB in 6 s to PagerDuty's endpoint, RSS 1 GB).
// Each is cut at the framing limit, before authentication, answered 400.
TEST_F(IntakeTest, EndlessChunkExtensionsAndTrailersAreCutBeforeAuthentication) {
  auto d = start_with_pagerduty();
  const std::size_t kernel_buffers = 4 * 1024 * 1024;
  const std::string filler(0x10000, 'a');
  for (const std::string& framing : {std::string("2;ext="), std::string("2\r\n{}\r\n0\r\nX-T: ")}) {
    RawSocket s("127.0.0.2", d->port(), 16 * 1024);
    ASSERT_TRUE(
        s.send("POST /api/v1/pagerduty HTTP/1.1\r\nHost: x\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" +
               framing));
    for (int i = 0; i < 1600 && s.send(filler); ++i) {  // 100 MB at most
    }
    auto answer = s.receive(5);
    EXPECT_LT(s.sent(), 64 * 1024 + kernel_buffers) << framing;
    if (!answer.empty()) {  // a reset may take the answer with it; the bound is what counts
      EXPECT_NE(answer.find(" 400 "), std::string::npos) << answer;
    }
  }
  auto health = d->client()->Get("/-/healthy");
  ASSERT_TRUE(health) << "the daemon died: " << d->log();
  EXPECT_EQ(metric(scrape(*d), R"(calloutd_http_connection_errors_total{reason="framing_limit"})"),
            2);
}

// A chunked body under the limit is read and accepted like any other.
TEST_F(IntakeTest, ChunkedBodyUnderTheLimitIsAccepted) {
  auto d = start();
  auto body = sample("am-0.25-firing-two-alerts.json");
  RawSocket s("127.0.0.2", d->port());
  std::ostringstream chunks;
  chunks << std::hex << body.size() << "\r\n" << body << "\r\n0\r\n\r\n";
  ASSERT_TRUE(
      s.send(post_head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks.str()));
  auto answer = s.receive(10);
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  EXPECT_TRUE(testing::eventually(10, [&] { return commits() >= 1; }));
}

// Finding 3: gzip was inflated before authentication and without a limit
// (a 20 KB gzip committed a 21 MB callout). Compressed bodies are refused
// with 415 before they are read; Alertmanager, PagerDuty and Grafana send
// them uncompressed.
TEST_F(IntakeTest, CompressedBodiesAreRefused) {
  auto d = start();
  for (const char* encoding : {"gzip", "deflate", "br"}) {
    httplib::Headers headers = bearer;
    headers.emplace("Content-Encoding", encoding);
    auto r = d->client()->Post("/api/v1/alertmanager", headers, std::string(1000, 'x'),
                               "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 415) << encoding;
    EXPECT_NE(r->body.find("uncompressed"), std::string::npos) << r->body;
  }
  auto r = d->post_alertmanager(sample("am-0.25-firing-two-alerts.json"), bearer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(testing::eventually(10, [&] { return commits() == 1; }));
}

// Finding 4: a declared 2 GiB Content-Length was read to the end before the
// 413, and with no body sent the 413 took 10 s. It is answered at once now,
// and a request without credentials gets its 401 before sending a body.
TEST_F(IntakeTest, OversizedOrUnauthenticatedRequestsAreAnsweredWithoutReadingTheBody) {
  auto d = start();
  {
    RawSocket s("127.0.0.2", d->port());
    ASSERT_TRUE(s.send(post_head + "Content-Length: 2147483648\r\n\r\n"));
    auto started = std::chrono::steady_clock::now();
    auto answer = s.receive(5);
    auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer;
    EXPECT_LT(took, 4.0);
  }
  {
    RawSocket s("127.0.0.2", d->port());
    ASSERT_TRUE(
        s.send("POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n"));
    auto answer = s.receive(5);
    EXPECT_NE(answer.find("HTTP/1.1 401"), std::string::npos) << answer;
    EXPECT_NE(answer.find("WWW-Authenticate: Bearer"), std::string::npos) << answer;
  }
}

// A body that stops arriving is cut at web.read_body_timeout.
TEST_F(IntakeTest, StalledBodyIsCutAtTheBodyDeadline) {
  auto d = start();
  RawSocket s("127.0.0.2", d->port());
  ASSERT_TRUE(s.send(post_head + "Content-Length: 1000\r\n\r\n{\"version\""));
  EXPECT_TRUE(testing::eventually(10, [&] { return s.closed_by_peer(); }));
  EXPECT_EQ(metric(scrape(*d), "calloutd_http_request_timeouts_total{phase=\"body\"}"), 1);
}

// Finding 7: a commit that failed waited for a restart, with /-/ready 200
// and nothing pending on the gauge. Now the daemon says it is not ready,
// shows the backlog, and commits on its own once the repository takes
// writes again. (Root ignores permissions: the object store's fan-out
// directories are made impossible to create instead.)
TEST_F(IntakeTest, FailedCommitIsRetriedWhileRunning) {
  auto d = start();
  auto objects = dir.path() / "callouts" / ".git" / "objects";
  ASSERT_TRUE(std::filesystem::is_directory(objects));
  std::vector<std::filesystem::path> blockers;
  for (int i = 0; i < 256; ++i) {
    char name[3];
    std::snprintf(name, sizeof name, "%02x", i);
    if (!std::filesystem::exists(objects / name)) {
      write_file(objects / name, "");
      blockers.push_back(objects / name);
    }
  }
  auto r = d->post_alertmanager(sample("am-0.25-firing-two-alerts.json"), bearer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto c = d->client();
  ASSERT_TRUE(testing::eventually(10, [&] {
    auto ready = c->Get("/-/ready");
    return ready && ready->status == 503;
  }));
  EXPECT_GE(metric(scrape(*d), "calloutd_journal_pending_events"), 1);
  for (const auto& b : blockers) {
    std::filesystem::remove(b);
  }
  EXPECT_TRUE(testing::eventually(20, [&] { return commits() >= 1; }));
  EXPECT_TRUE(testing::eventually(5, [&] {
    auto ready = c->Get("/-/ready");
    return ready && ready->status == 200;
  }));
  auto exposition = scrape(*d);
  EXPECT_EQ(metric(exposition, "calloutd_journal_pending_events"), 0);
  EXPECT_GE(metric(exposition, "calloutd_commit_retries_total"), 1);
}

// Finding 9: a second pipelined request got no answer.
TEST_F(IntakeTest, PipelinedRequestsAreAllAnswered) {
  auto d = start();
  RawSocket s("127.0.0.2", d->port());
  ASSERT_TRUE(
      s.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto answer = s.receive(5);
  EXPECT_NE(answer.find("calloutd is Healthy."), std::string::npos) << answer;
  EXPECT_NE(answer.find("calloutd is Ready."), std::string::npos) << answer;
  std::size_t answers = 0;
  for (auto at = answer.find("HTTP/1.1 200"); at != std::string::npos;
       at = answer.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 3u) << answer;
}

// Finding 9: a basic-auth-only config answered 401 with a Bearer challenge.
TEST_F(IntakeTest, ChallengeNamesTheConfiguredScheme) {
  auto d = start_with_basic_auth();
  auto r = d->post_alertmanager(sample("am-0.25-firing-two-alerts.json"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate").rfind("Basic ", 0), 0u)
      << r->get_header_value("WWW-Authenticate");
}

// Finding 8: the read endpoints can ask for the receivers' credentials; the
// health checks stay open.
TEST_F(IntakeTest, ReadEndpointsCanRequireCredentials) {
  // The key belongs beside the credentials, in the receivers section.
  std::string config = k_config;
  config.replace(config.find("receivers:\n"), 11, "receivers:\n  authenticate_reads: true\n");
  write_file(dir.path() / "calloutd.yml", config);
  auto d = start();
  auto c = d->client();
  for (const char* path : {"/api/v1/incidents", "/metrics"}) {
    auto anonymous = c->Get(path);
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401) << path;
    auto with = c->Get(path, bearer);
    ASSERT_TRUE(with);
    EXPECT_EQ(with->status, 200) << path;
  }
  for (const char* path : {"/-/healthy", "/-/ready"}) {
    auto r = c->Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path;
  }
}

// Finding 8: open by default without a word. Without credentials the daemon
// warns at start; beyond loopback it refuses to start unless told to.
TEST_F(IntakeTest, NoCredentialsWarnsAndRefusesToListenBeyondLoopback) {
  write_file(dir.path() / "open.yml", "repository:\n  path: callouts\n");
  {
    DaemonProcess d(dir.path(), {"--config.file=open.yml"});
    EXPECT_NE(d.log().find("no credentials configured"), std::string::npos) << d.log();
  }
  auto log = (dir.path() / "wide.log").string();
  testing::Process wide(
      {testing::calloutd_binary(), "--config.file=open.yml", "--web.listen-address=0.0.0.0:0"}, log,
      dir.path());
  EXPECT_EQ(wide.wait(20), 1);
  EXPECT_NE(read_file(log).find("web.allow_unauthenticated"), std::string::npos) << read_file(log);
  write_file(dir.path() / "wide.yml",
             "web:\n  listen_address: 0.0.0.0:9095\nrepository:\n  path: callouts\n");
  int status = 0;
  auto out = testing::run(testing::calloutd_binary() + " --check-config --config.file=" +
                              (dir.path() / "wide.yml").string() + " 2>&1",
                          &status);
  EXPECT_NE(status, 0) << out;
  EXPECT_NE(out.find("allow_unauthenticated"), std::string::npos) << out;
  write_file(dir.path() / "wide.yml",
             "web:\n  listen_address: 0.0.0.0:9095\n  allow_unauthenticated: true\n"
             "repository:\n  path: callouts\n");
  out = testing::run(testing::calloutd_binary() + " --check-config --config.file=" +
                         (dir.path() / "wide.yml").string() + " 2>&1",
                     &status);
  EXPECT_EQ(status, 0) << out;
}

// Issue 15, item 7: a 401 was counted but never logged. Now the first one
// per client address and reason is logged (never the credential), and
// repeats within the minute are only counted.
TEST_F(IntakeTest, WrongTokenIsLoggedOnceWithoutTheToken) {
  auto d = start();
  const httplib::Headers wrong{{"Authorization", "Bearer not-the-token-3f9a"}};
  for (int i = 0; i < 5; ++i) {
    auto r = d->post_alertmanager(sample("am-0.25-firing-two-alerts.json"), wrong);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  // Logged before each 401 is sent: the log is complete once the fifth is answered.
  auto log = d->log();
  std::istringstream lines(log);
  std::vector<std::string> refused;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("wrong bearer token") != std::string::npos) {
      refused.push_back(line);
    }
  }
  ASSERT_EQ(refused.size(), 1u) << log;
  EXPECT_NE(refused[0].find("level=warn"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("remote=127.0.0.1"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("/api/v1/alertmanager"), std::string::npos) << refused[0];
  EXPECT_EQ(log.find("3f9a"), std::string::npos) << log;
}

// Each kind of mistake is named, none with the credential.
TEST_F(IntakeTest, RefusedBasicAuthIsLoggedByReason) {
  auto d = start_with_basic_auth();
  auto c = d->client();
  c->set_basic_auth("alertmanager", "guess-7c1e");
  ASSERT_TRUE(c->Post("/api/v1/alertmanager", "{}", "application/json"));
  c->set_basic_auth("mallory-5d2b", "example-password");
  ASSERT_TRUE(c->Post("/api/v1/alertmanager", "{}", "application/json"));
  ASSERT_TRUE(d->client()->Post("/api/v1/incidents", "{}", "application/json"));
  auto log = d->log();
  for (const char* reason :
       {"reason=\"wrong basic-auth password\"", "reason=\"unknown basic-auth user\"",
        "endpoint=/api/v1/incidents reason=\"missing credentials\""}) {
    EXPECT_NE(log.find(reason), std::string::npos) << reason << "\n" << log;
  }
  EXPECT_EQ(log.find("7c1e"), std::string::npos) << log;
  EXPECT_EQ(log.find("5d2b"), std::string::npos) << log;
}

}  // namespace
}  // namespace calloutd
