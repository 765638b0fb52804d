// Real git remotes on 127.0.0.1 for the remote tests, each serving a bare
// repository on a port it picks: OpenSSH's sshd with key authentication, and
// git's smart HTTP (`git http-backend`) behind a cpp-httplib server that
// demands a token. Both can be stopped and started again on the same port.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/test_support.hpp"

namespace calloutd::testing {

// An empty bare repository at `path` (branch main), accepting pushes.
void make_bare_repository(const std::filesystem::path& path);

class SshGitServer {
 public:
  // Keys, authorized_keys, known_hosts and the bare repository under `dir`.
  explicit SshGitServer(const std::filesystem::path& dir);
  ~SshGitServer();
  void start();
  void stop();

  std::string url() const;  // ssh://user@127.0.0.1:port/.../remote.git
  std::filesystem::path bare() const { return m_dir / "remote.git"; }
  std::filesystem::path client_key() const { return m_dir / "client_key"; }
  std::filesystem::path known_hosts() const { return m_dir / "known_hosts"; }
  std::filesystem::path host_public_key() const { return m_dir / "host_key.pub"; }
  int port() const { return m_port; }
  // For engineers' git CLI: GIT_SSH_COMMAND with the key and known_hosts.
  std::string git_ssh_command() const;
  std::string log() const { return read_file(m_dir / "sshd.log"); }

 private:
  std::filesystem::path m_dir;
  int m_port = 0;
  std::unique_ptr<Process> m_sshd;
};

class HttpGitServer {
 public:
  enum class Tls { off, on };
  // With Tls::on it serves HTTPS with a certificate for "localhost" signed by
  // a CA of its own (ca_file()).
  HttpGitServer(const std::filesystem::path& dir, std::string user, std::string token,
                Tls tls = Tls::off);
  ~HttpGitServer();
  void start();
  void stop();

  std::string url() const;  // http://127.0.0.1:port/remote.git, https://localhost:port/...
  std::filesystem::path ca_file() const { return m_dir / "ca.pem"; }
  // With the credentials in it, for engineers' git CLI.
  std::string url_with_token() const;
  std::filesystem::path bare() const { return m_dir / "remote.git"; }
  int port() const { return m_port; }
  // Holds each push this long before git receives it, so that a test can
  // act while one is in flight.
  void set_push_delay(std::chrono::milliseconds delay) { m_push_delay = delay; }
  int pushes_in_flight() const { return m_pushes_in_flight.load(); }
  int pushes_received() const { return m_pushes_received.load(); }

 private:
  void serve(const httplib::Request& req, httplib::Response& res);

  std::filesystem::path m_dir;
  std::string m_user;
  std::string m_token;
  bool m_tls = false;
  int m_port = 0;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  std::atomic<std::chrono::milliseconds> m_push_delay{std::chrono::milliseconds(0)};
  std::atomic<int> m_pushes_in_flight{0};
  std::atomic<int> m_pushes_received{0};
};

}  // namespace calloutd::testing
