// The HTTP server in process on 127.0.0.1 (port 0), with a fake submitter
// in place of the pipeline: what reaches it, and what the sender is told.
#include "daemon/http/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "daemon/base/keep_running.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using nlohmann::json;

const std::string k_sample = "am-0.25-firing-two-alerts.json";

// Records what is submitted; refuses with `refusal` when set.
class FakeSubmitter final : public Submitter {
 public:
  struct Submitted {
    std::string source;
    std::string body;
    Payload payload;
  };

  std::variant<std::uint64_t, Refusal> submit(std::string_view source, std::string_view body,
                                              Payload payload, bool /*verified*/,
                                              CopyKeys /*keys*/) override {
    std::lock_guard lock(m_mutex);
    m_calls.push_back({std::string(source), std::string(body), std::move(payload)});
    if (m_refusal) {
      return *m_refusal;
    }
    return static_cast<std::uint64_t>(m_calls.size());
  }
  std::optional<std::uint64_t> duplicate_of(const std::string&, const std::string&) const override {
    return std::nullopt;
  }
  std::optional<std::uint64_t> duplicate_of_body(const std::string&) const override {
    return std::nullopt;
  }
  std::vector<IncidentSummary> open_incidents() const override {
    std::lock_guard lock(m_mutex);
    return m_open;
  }
  bool stuck() const override { return commits_fail; }
  std::vector<HeldGroup> held_groups() const override {
    std::lock_guard lock(m_mutex);
    return m_held_groups;
  }
  void run_on_strand(const std::function<void()>& task) override {
    {
      std::unique_lock lock(m_mutex);
      ++m_waiting;
      m_changed.notify_all();
      m_changed.wait(lock, [this] { return !m_held; });
      --m_waiting;
    }
    task();
  }

  // The engine's strand busy (a latch): run_on_strand() waits until released.
  void hold_strand() {
    std::lock_guard lock(m_mutex);
    m_held = true;
  }
  void release_strand() {
    std::lock_guard lock(m_mutex);
    m_held = false;
    m_changed.notify_all();
  }
  // Waits until `n` callers wait for the strand.
  bool wait_for_waiting(int n) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, std::chrono::seconds(10), [&] { return m_waiting == n; });
  }

  void refuse(Refusal refusal) {
    std::lock_guard lock(m_mutex);
    m_refusal = refusal;
  }
  std::vector<Submitted> calls() const {
    std::lock_guard lock(m_mutex);
    return m_calls;
  }
  // What the pipeline reports: open incidents, held groups, commits failing.
  void set_open(std::vector<IncidentSummary> open) {
    std::lock_guard lock(m_mutex);
    m_open = std::move(open);
  }
  void hold_group(HeldGroup group) {
    std::lock_guard lock(m_mutex);
    m_held_groups.push_back(std::move(group));
  }
  std::atomic<bool> commits_fail{false};

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_held = false;
  int m_waiting = 0;
  std::optional<Refusal> m_refusal;
  std::vector<Submitted> m_calls;
  std::vector<IncidentSummary> m_open;
  std::vector<HeldGroup> m_held_groups;
};

class HttpServerTest : public ::testing::Test {
 protected:
  ~HttpServerTest() override {
    if (server) {
      server->stop();
      thread.join();
    }
  }

  // Starts the server with `config` as the test changed it.
  void start() {
    server = std::make_unique<HttpServer>(config, submitter, metrics);
    if (admission) {
      server->set_admission(admission);  // before the server's thread starts
    }
    auto bound = server->bind("127.0.0.1:0");
    ASSERT_TRUE(bound) << bound.error();
    port = *bound;
    server->set_ready(true);
    thread = std::thread([this] { server->run(); });
  }

  httplib::Result post(const std::string& body, const httplib::Headers& headers = {}) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    return client.Post("/api/v1/alertmanager", headers, body, "application/json");
  }

  Config config;
  HttpServer::Admission admission;  // none: every request is journaled
  FakeSubmitter submitter;
  Metrics metrics;
  std::unique_ptr<HttpServer> server;
  std::thread thread;
  int port = 0;
};

TEST_F(HttpServerTest, AnAlertmanagerNotificationReachesThePipelineOnce) {
  start();
  auto body = testing::sample(k_sample);
  auto r = post(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["sequence"], 1);
  auto calls = submitter.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].source, "alertmanager");
  EXPECT_EQ(calls[0].body, body);
  ASSERT_TRUE(std::holds_alternative<AlertGroup>(calls[0].payload));
  EXPECT_EQ(std::get<AlertGroup>(calls[0].payload).alerts.size(), 2u);
}

// A group held for a problem of its own keeps the daemon ready (other groups
// commit) and is named; only commits failing for everyone make it 503.
TEST_F(HttpServerTest, HeldGroupsAreListedAndReadyStaysHonest) {
  submitter.set_open({IncidentSummary{"am-1", "api/outage", "api", "HPI", {}, {}, {}},
                      IncidentSummary{"am-2", "api/other", "api", "HPI", {}, {}, {}}});
  submitter.hold_group({"aa11",
                        "write_up_unreadable",
                        "cannot read \"api/outage/callout.md\"",
                        "am-1",
                        "api/outage",
                        2,
                        7,
                        {}});
  submitter.hold_group(
      {"bb22", "state_unreadable", "\".calloutd/groups/bb/bb22.json\" is bad", "", "", 1, 9, {}});
  start();
  httplib::Client client("127.0.0.1", port);
  auto ready = client.Get("/-/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_NE(ready->body.find("Events of 2 group(s) are held"), std::string::npos) << ready->body;
  EXPECT_NE(ready->body.find("- group bb22 (state_unreadable, 1 events since"), std::string::npos)
      << ready->body;

  auto listed = client.Get("/api/v1/incidents");
  ASSERT_TRUE(listed);
  auto body = json::parse(listed->body);
  ASSERT_EQ(body["held"].size(), 2u);
  EXPECT_EQ(body["held"][1]["group"], "bb22");
  EXPECT_EQ(body["held"][1]["reason"], "state_unreadable");
  EXPECT_EQ(body["held"][1]["events"], 1);
  EXPECT_EQ(body["held"][1]["oldest_sequence"], 9);
  ASSERT_EQ(body["incidents"].size(), 2u);
  EXPECT_EQ(body["incidents"][0]["held"]["reason"], "write_up_unreadable");
  EXPECT_FALSE(body["incidents"][1].contains("held"));

  submitter.commits_fail = true;
  ready = client.Get("/-/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
}

TEST_F(HttpServerTest, BadJsonIsA400NamingTheProblemAndReachesNothing) {
  start();
  auto r = post(R"({"version": "4", "alerts": [)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  auto error = json::parse(r->body).value("error", "");
  EXPECT_EQ(error.rfind("not an Alertmanager webhook: ", 0), 0u) << error;
  EXPECT_GT(error.size(), std::string("not an Alertmanager webhook: ").size()) << error;
  EXPECT_TRUE(submitter.calls().empty());
  EXPECT_EQ(
      testing::metric(
          metrics.serialize(),
          R"(calloutd_webhook_requests_total{outcome="bad_request",receiver="alertmanager"})"),
      1);
}

TEST_F(HttpServerTest, WrongCredentialsAreA401AndReachNothing) {
  config.alertmanager_auth.bearer_token = "the-token";
  start();
  auto body = testing::sample(k_sample);
  auto wrong = post(body, {{"Authorization", "Bearer not-the-token"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401) << wrong->body;
  EXPECT_EQ(wrong->get_header_value("WWW-Authenticate"), "Bearer realm=\"calloutd\"");
  auto none = post(body);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_TRUE(submitter.calls().empty());

  auto right = post(body, {{"Authorization", "Bearer the-token"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  EXPECT_EQ(submitter.calls().size(), 1u);
}

// Sends `head` on a new connection and returns what the server answers
// (until it closes the connection or 10 s pass).
std::string raw_exchange(int port, const std::string& head) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

TEST_F(HttpServerTest, AnOversizedBodyIsA413BeforeTheBodyIsSent) {
  config.max_body_bytes = 4096;
  start();
  // The head announces 100 MB and no byte of the body follows: the answer
  // can only come from the head.
  auto answer = raw_exchange(port,
                             "POST /api/v1/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_NE(answer.find("request body too large (web.max_body_bytes is 4096)"), std::string::npos)
      << answer;
  EXPECT_TRUE(submitter.calls().empty());
  EXPECT_EQ(testing::metric(
                metrics.serialize(),
                R"(calloutd_webhook_requests_total{outcome="too_large",receiver="alertmanager"})"),
            1);
}

// Issue 25: an exception out of an I/O thread's handler (Beast's composed
// operations throw past the connection's coroutine) ended the process. Each
// I/O thread survives it: logged, counted, and the server answers on.
TEST_F(HttpServerTest, AnExceptionOnAnIoThreadDoesNotStopTheServer) {
  start();
  const auto before = survived_exceptions()["http"];
  std::atomic<int> thrown = 0;
  for (int i = 0; i < 4; ++i) {  // more than the I/O threads: none is lost to it
    server->post_to_io([&thrown] {
      ++thrown;
      throw std::length_error("field value too large");
    });
  }
  ASSERT_TRUE(testing::eventually(10, [&] { return survived_exceptions()["http"] == before + 4; }));
  EXPECT_EQ(thrown, 4);
  auto r = post(testing::sample(k_sample));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_GE(
      testing::metric(metrics.serialize(), R"(calloutd_thread_exceptions_total{thread="http"})"),
      4);
}

TEST_F(HttpServerTest, APipelineThatCannotJournalIsA503ToRetry) {
  submitter.refuse(Submitter::Refusal::journal_failed);
  start();
  auto r = post(testing::sample(k_sample));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "5");
  EXPECT_NE(json::parse(r->body).value("error", "").find("cannot journal the event"),
            std::string::npos)
      << r->body;

  submitter.refuse(Submitter::Refusal::overloaded);
  auto overloaded = post(testing::sample("am-0.25-resolved.json"));
  ASSERT_TRUE(overloaded);
  EXPECT_EQ(overloaded->status, 503) << overloaded->body;
  EXPECT_NE(overloaded->body.find("overloaded"), std::string::npos) << overloaded->body;
}

// The resolve and ack endpoints: the engine's admission is answered before
// anything is journaled (404, 409 with its details, 200 unchanged); only an
// admitted request reaches the pipeline, as the API's journal record.
TEST_F(HttpServerTest, RequestsByHandAreJournaledOnlyWhenTheEngineAdmitsThem) {
  using Verdict = Engine::Admission::Verdict;
  Engine::Admission answer;
  std::mutex answer_mutex;  // the test sets it, the server's thread reads it
  auto answer_with = [&](Engine::Admission a) {
    std::lock_guard lock(answer_mutex);
    answer = std::move(a);
  };
  admission = [&](const Payload&) {
    std::lock_guard lock(answer_mutex);
    return answer;
  };
  start();
  httplib::Client client("127.0.0.1", port);
  auto send = [&](const std::string& path, const std::string& body) {
    auto r = client.Post(path, body, "application/json");
    EXPECT_TRUE(r);
    return r ? std::pair{r->status, json::parse(r->body, nullptr, false)} : std::pair{0, json()};
  };
  answer_with({Verdict::unknown, "no incident \"man-nope\"", {}});
  auto [status, body] = send("/api/v1/incidents/man-nope/resolve", "");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"], "no incident \"man-nope\"");
  answer_with({Verdict::conflict, "it fires", {"alert 1f firing since 2026-11-22 03:45:52 UTC"}});
  std::tie(status, body) = send("/api/v1/incidents/am-1/resolve", R"({"note":"done"})");
  EXPECT_EQ(status, 409);
  EXPECT_EQ(body, (json{{"error", "it fires"},
                        {"details", {"alert 1f firing since 2026-11-22 03:45:52 UTC"}}}));
  answer_with({Verdict::unchanged, "man-1 was acknowledged at 2026-11-22 03:10:00 UTC", {}});
  std::tie(status, body) = send("/api/v1/incidents/man-1/ack", "{}");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["status"], "unchanged");
  std::tie(status, body) = send("/api/v1/incidents/man-1/ack", R"({"person":7})");
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(submitter.calls().empty());

  answer_with({});
  std::tie(status, body) = send("/api/v1/incidents/man-1/ack", R"({"person":"Cai Lu"})");
  EXPECT_EQ(status, 202);
  EXPECT_EQ(body, (json{{"status", "accepted"}, {"incident", "man-1"}, {"acknowledged", true}}));
  auto calls = submitter.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].source, "api");
  EXPECT_EQ(json::parse(calls[0].body),
            (json{{"kind", "ack"}, {"incident_id", "man-1"}, {"person", "Cai Lu"}}));
  ASSERT_TRUE(std::holds_alternative<AckRequest>(calls[0].payload));
}

// Issue 26: 8 API calls waiting on a busy strand took every worker, and a
// webhook for a new group got its 200 after 19 s (Alertmanager gives up at
// 10 s). With the strand held (a latch, not a time bound), at most 4 API
// calls wait for it, the rest are told 503 to retry, and a webhook is
// answered at once.
TEST_F(HttpServerTest, AWebhookIsAnsweredWhileTheEngineIsBusy) {
  admission = [](const Payload&) { return Engine::Admission{}; };
  start();
  submitter.hold_strand();
  std::vector<std::thread> callers;
  std::mutex statuses_mutex;
  std::vector<int> statuses;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(30, 0);
      auto r =
          client.Post("/api/v1/incidents/man-1/ack", R"({"person":"Cai Lu"})", "application/json");
      std::lock_guard lock(statuses_mutex);
      statuses.push_back(r ? r->status : 0);
    });
  }
  ASSERT_TRUE(submitter.wait_for_waiting(4));
  ASSERT_TRUE(testing::eventually(10, [&] {
    std::lock_guard lock(statuses_mutex);
    return statuses.size() == 4;
  }));
  {
    std::lock_guard lock(statuses_mutex);
    EXPECT_EQ(statuses, std::vector<int>(4, 503))
        << "beyond 4 waiting, an API call is told to retry";
  }
  auto webhook = post(testing::sample(k_sample));  // the strand is still held
  ASSERT_TRUE(webhook);
  EXPECT_EQ(webhook->status, 200) << webhook->body;
  EXPECT_TRUE(submitter.wait_for_waiting(4)) << "the waiting API calls were answered meanwhile";

  submitter.release_strand();
  for (auto& t : callers) {
    t.join();
  }
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 202), 4);
}

}  // namespace
}  // namespace calloutd
