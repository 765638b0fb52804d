// calloutctl's commands in process: against a fake daemon (an HTTP server on
// 127.0.0.1 that records what it is asked and answers as told) and against a
// repository in a temporary directory.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "daemon/ctl/ctl.hpp"
#include "daemon/git/repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd::ctl {
namespace {

// The daemon's API as calloutctl sees it: each POST recorded, each answered
// with `status` and `answer`.
class FakeDaemon {
 public:
  FakeDaemon() {
    m_server.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      m_requests.push_back({req.path, req.body, req.get_header_value("Authorization")});
      res.status = status;
      res.set_content(answer, "application/json");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    // stop() only stops a server that runs: a test that asks nothing would
    // otherwise stop it before it started, and wait for it forever.
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~FakeDaemon() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  struct Request {
    std::string path;
    std::string body;
    std::string authorization;
  };
  std::vector<Request> requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

  int status = 202;
  std::string answer = R"({"status":"accepted"})";

 private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<Request> m_requests;
};

class CtlShiftTest : public ::testing::Test {
 protected:
  int shift(const std::vector<std::string>& argv) { return shift_command(argv, ctx); }

  FakeDaemon daemon;
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{out, err, daemon.url(), "s3cret"};
};

TEST_F(CtlShiftTest, StartPostsTheRolesRequestWithTheToken) {
  EXPECT_EQ(shift({"start", "am-1", "--person", "Ana"}), Exit::ok) << err.str();
  auto requests = daemon.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/api/v1/incidents/am-1/roles");
  EXPECT_EQ(nlohmann::json::parse(requests[0].body),
            (nlohmann::json{{"action", "join"}, {"person", "Ana"}, {"role", "Operations"}}));
  EXPECT_EQ(requests[0].authorization, "Bearer s3cret");
  EXPECT_EQ(out.str(),
            "accepted: start Operations on am-1 (the daemon records it in the callout's "
            "timeline and Team roles)\n");
}

TEST_F(CtlShiftTest, HandoverNamesBothPeopleAndTheTime) {
  EXPECT_EQ(shift({"handover", "am-2", "--from=Ana", "--to=Ben", "--role", "Incident Lead", "--at",
                   "2026-11-22T03:00:00Z"}),
            Exit::ok)
      << err.str();
  auto requests = daemon.requests();
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["action"], "handover");
  EXPECT_EQ(body["person"], "Ana");
  EXPECT_EQ(body["to"], "Ben");
  EXPECT_EQ(body["role"], "Incident Lead");
  EXPECT_EQ(body["at"], "2026-11-22T03:00:00.000Z");
}

TEST_F(CtlShiftTest, ARefusalIsPrintedWithItsDetailsAndExitsOne) {
  daemon.status = 409;
  daemon.answer = R"({"error":"Ana does not hold Operations","details":["held by Ben"]})";
  EXPECT_EQ(shift({"end", "am-1", "--person", "Ana"}), Exit::refused);
  EXPECT_EQ(err.str(), "calloutctl: shift end: Ana does not hold Operations:\n  - held by Ben\n");
  EXPECT_EQ(out.str(), "");
}

TEST_F(CtlShiftTest, ADaemonErrorExitsThree) {
  daemon.status = 503;
  daemon.answer = "not json";
  EXPECT_EQ(shift({"start", "am-1", "--person", "Ana"}), Exit::unavailable);
  EXPECT_EQ(err.str(), "calloutctl: shift start: HTTP 503\n");
}

TEST_F(CtlShiftTest, BadCommandLinesAskNothingOfTheDaemon) {
  EXPECT_EQ(shift({"start", "am-1"}), Exit::usage_error);
  EXPECT_EQ(err.str().substr(0, err.str().find('\n')), "calloutctl shift: --person is required");
  err.str("");
  EXPECT_EQ(
      shift({"start", "am-1", "--person", "Ana", "--at", "2026-11-22T03:00:00Z", "--ago", "1h"}),
      Exit::usage_error);
  EXPECT_EQ(err.str().substr(0, err.str().find('\n')),
            "calloutctl shift: --at and --ago exclude each other");
  err.str("");
  EXPECT_EQ(shift({"resign", "am-1"}), Exit::usage_error);
  EXPECT_EQ(err.str().substr(0, err.str().find('\n')),
            "calloutctl shift: unknown shift command \"resign\"");
  EXPECT_TRUE(daemon.requests().empty());
}

TEST(CtlApiTest, ADaemonThatCannotBeReachedIsUnavailable) {
  // A port that was just free: nothing listens there.
  int port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{out, err, "http://127.0.0.1:" + std::to_string(port), ""};
  auto answer = api_get(ctx, "/api/v1/incidents");
  EXPECT_EQ(answer.status, 0);
  EXPECT_EQ(answer.error.rfind("cannot reach calloutd at " + ctx.url + " (", 0), 0u)
      << answer.error;
  EXPECT_EQ(report_failure(ctx, "list", answer), Exit::unavailable);
}

// new --repo, then list and search --repo: a callout opened by hand straight
// into a repository, and found there again.
class CtlRepositoryTest : public ::testing::Test {
 protected:
  CtlRepositoryTest() { GitRepository repository({.path = dir.str()}); }

  int run(int (*command)(const std::vector<std::string>&, Context&),
          std::vector<std::string> argv) {
    out.str("");
    err.str("");
    argv.insert(argv.end(), {"--repo", dir.str()});
    return command(argv, ctx);
  }

  testing::TempDir dir;
  std::ostringstream out;
  std::ostringstream err;
  Context ctx{out, err, "http://127.0.0.1:9", ""};
};

TEST_F(CtlRepositoryTest, ACalloutOpenedByHandIsListedAndFound) {
  ASSERT_EQ(run(new_command, {"--technology", "postgres", "--issue", "Slow queries", "--severity",
                              "HPI", "--summary", "Reports from support"}),
            Exit::ok)
      << err.str();
  auto opened = out.str();
  EXPECT_NE(opened.find("postgres/slow-queries-"), std::string::npos) << opened;

  ASSERT_EQ(run(list_command, {"--format", "json"}), Exit::ok) << err.str();
  auto listed = nlohmann::json::parse(out.str());
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed.dump().find("postgres/slow-queries-") != std::string::npos, true)
      << listed.dump();

  ASSERT_EQ(run(search_command, {"support"}), Exit::ok) << err.str();
  EXPECT_NE(out.str().find("slow-queries"), std::string::npos) << out.str();
  ASSERT_EQ(run(search_command, {"no such words anywhere"}), Exit::ok) << err.str();
  EXPECT_EQ(out.str().find("slow-queries"), std::string::npos) << out.str();
}

TEST_F(CtlRepositoryTest, NewWithoutASeverityItKnowsIsAUsageError) {
  EXPECT_EQ(run(new_command,
                {"--technology", "db", "--issue", "x", "--severity", "LOW", "--summary", "y"}),
            Exit::usage_error);
  EXPECT_NE(err.str().find("LOW"), std::string::npos) << err.str();
}

TEST_F(CtlRepositoryTest, LintFindsNoErrorsInACalloutOpenedByHand) {
  ASSERT_EQ(run(new_command, {"--technology", "postgres", "--issue", "Slow queries", "--severity",
                              "MPI", "--summary", "Reports from support"}),
            Exit::ok)
      << err.str();
  // The commit is in the repository's branch; lint reads the working tree.
  testing::run("git -C '" + dir.str() + "' checkout -q -f main 2>&1");
  EXPECT_EQ(run(lint_command, {}), Exit::ok) << out.str() << err.str();
  EXPECT_NE(out.str().find("calloutctl lint: 0 errors"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace calloutd::ctl
