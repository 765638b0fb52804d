#include "tests/support/daemon_process.hpp"

#include <re2/re2.h>

#include <stdexcept>

namespace calloutd::testing {

DaemonProcess::DaemonProcess(const std::filesystem::path& workdir, std::vector<std::string> args) {
  static int counter = 0;
  m_log = workdir / ("calloutd-" + std::to_string(++counter) + ".log");
  args.insert(args.begin(), calloutd_binary());
  args.push_back("--web.listen-address=127.0.0.1:0");
  m_process = std::make_unique<Process>(args, m_log.string(), workdir);
  bool up = eventually(20, [&] {
    int port = 0;
    if (RE2::PartialMatch(log(), R"(msg=listening .*port=(\d+))", &port)) {
      m_port = port;
      return true;
    }
    return !m_process->running();
  });
  if (!up || m_port == 0) {
    throw std::runtime_error("calloutd did not start:\n" + log());
  }
}

std::unique_ptr<httplib::Client> DaemonProcess::client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", m_port);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(10, 0);
  return c;
}

httplib::Result DaemonProcess::post_alertmanager(const std::string& body,
                                                 const httplib::Headers& headers) const {
  return client()->Post("/api/v1/alertmanager", headers, body, "application/json");
}

std::string git(const std::filesystem::path& repo, const std::string& args, int* status) {
  return run("git -C '" + repo.string() + "' " + args + " 2>&1", status);
}

}  // namespace calloutd::testing
