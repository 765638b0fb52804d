// A Prometheus scrape target on 127.0.0.1 whose `e2e_database_down` gauge,
// one series per cluster, the test flips (0 up, 1 down) to make an alerting
// rule fire and resolve.
#pragma once

#include <httplib.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace calloutd::testing {

class SwitchTarget {
 public:
  explicit SwitchTarget(std::vector<std::string> clusters = {"eu-1"})
      : m_clusters(std::move(clusters)) {
    m_server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::string body = "# TYPE e2e_database_down gauge\n";
      for (const auto& cluster : m_clusters) {
        body += "e2e_database_down{cluster=\"" + cluster + "\"} " + std::to_string(m_down.load()) +
                "\n";
      }
      res.set_content(body, "text/plain; version=0.0.4");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~SwitchTarget() {
    m_server.stop();
    m_thread.join();
  }
  SwitchTarget(const SwitchTarget&) = delete;
  SwitchTarget& operator=(const SwitchTarget&) = delete;
  void set(int down) { m_down = down; }
  int port() const { return m_port; }

 private:
  std::vector<std::string> m_clusters;
  httplib::Server m_server;
  std::atomic<int> m_down{0};
  int m_port = 0;
  std::thread m_thread;
};

}  // namespace calloutd::testing
