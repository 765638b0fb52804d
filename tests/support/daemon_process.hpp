// The calloutd binary run as a child process on 127.0.0.1 with a port it
// picks itself (--web.listen-address=127.0.0.1:0; the port is read back from
// its "listening" log line).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

namespace calloutd::testing {

class DaemonProcess {
 public:
  // Starts calloutd with `args` plus the listen flag; waits until it serves.
  DaemonProcess(const std::filesystem::path& workdir, std::vector<std::string> args);

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  // With --web.config.file naming a tls_server_config.
  std::string https_url() const { return "https://127.0.0.1:" + std::to_string(m_port); }
  Process& process() { return *m_process; }
  std::string log() const { return read_file(m_log); }
  // A fresh client (cpp-httplib) for this daemon.
  std::unique_ptr<httplib::Client> client() const;
  httplib::Result post_alertmanager(const std::string& body,
                                    const httplib::Headers& headers = {}) const;

 private:
  std::filesystem::path m_log;
  std::unique_ptr<Process> m_process;
  int m_port = 0;
};

// `git -C repo args`, stdout and stderr.
std::string git(const std::filesystem::path& repo, const std::string& args, int* status = nullptr);

}  // namespace calloutd::testing
