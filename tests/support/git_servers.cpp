#include "tests/support/git_servers.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <re2/re2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <sstream>
#include <stdexcept>

#include "daemon/base/hash.hpp"

namespace calloutd::testing {
namespace fs = std::filesystem;

namespace {

std::string user_name() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr ? pw->pw_name : "root";
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void make_bare_repository(const fs::path& path) {
  int status = 0;
  run("git init -q --bare -b main '" + path.string() + "' 2>&1", &status);
  if (status != 0) {
    throw std::runtime_error("cannot create " + path.string());
  }
  run("git -C '" + path.string() + "' config http.receivepack true");
}

SshGitServer::SshGitServer(const fs::path& dir) : m_dir(dir) {
  fs::create_directories(m_dir);
  std::string d = m_dir.string();
  int status = 0;
  run("ssh-keygen -q -t ed25519 -N '' -f '" + d +
          "/host_key' && ssh-keygen -q -t ed25519 -N '' -f '" + d + "/client_key' && cp '" + d +
          "/client_key.pub' '" + d + "/authorized_keys' && chmod 600 '" + d +
          "/authorized_keys' 2>&1",
      &status);
  if (status != 0) {
    throw std::runtime_error("ssh-keygen failed");
  }
  make_bare_repository(bare());
  m_port = free_port();
  write_file(m_dir / "sshd_config",
             "Port " + std::to_string(m_port) + "\nListenAddress 127.0.0.1\nHostKey " + d +
                 "/host_key\nAuthorizedKeysFile " + d +
                 "/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                 "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\n"
                 "UsePAM no\nPidFile " +
                 d + "/sshd.pid\nLogLevel VERBOSE\n");
  // The host key as known_hosts lists it for a port other than 22.
  std::string host_key = read_file(host_public_key());
  write_file(known_hosts(), "[127.0.0.1]:" + std::to_string(m_port) + " " +
                                host_key.substr(0, host_key.rfind(' ')) + "\n");
  fs::create_directories("/run/sshd");  // privilege separation directory
  start();
}

SshGitServer::~SshGitServer() {
  stop();
}

void SshGitServer::start() {
  m_sshd = std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/sshd", "-D", "-e", "-f",
                                                              (m_dir / "sshd_config").string()},
                                     (m_dir / "sshd.log").string());
  if (!eventually(10, [&] { return accepts_connections(m_port); })) {
    throw std::runtime_error("sshd did not start:\n" + log());
  }
}

void SshGitServer::stop() {
  m_sshd.reset();
}

std::string SshGitServer::url() const {
  return "ssh://" + user_name() + "@127.0.0.1:" + std::to_string(m_port) + bare().string();
}

std::string SshGitServer::git_ssh_command() const {
  return "ssh -i " + client_key().string() + " -o UserKnownHostsFile=" + known_hosts().string() +
         " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes";
}

HttpGitServer::HttpGitServer(const fs::path& dir, std::string user, std::string token, Tls tls)
    : m_dir(dir), m_user(std::move(user)), m_token(std::move(token)), m_tls(tls == Tls::on) {
  fs::create_directories(m_dir);
  if (m_tls) {
    // A CA, and a server certificate for 127.0.0.1 it signs.
    std::string d = m_dir.string();
    int status = 0;
    auto out = run("cd '" + d +
                       "' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
                       "-keyout ca.key -out ca.pem && openssl req -newkey rsa:2048 -nodes -subj "
                       "/CN=localhost -keyout server.key -out server.csr && printf "
                       "'subjectAltName=DNS:localhost\\n' > san.ext && openssl x509 -req -in "
                       "server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "
                       "san.ext -out server.pem 2>&1",
                   &status);
    if (status != 0) {
      throw std::runtime_error("cannot make the test certificates: " + out);
    }
  }
  make_bare_repository(bare());
  m_port = free_port();
  start();
}

HttpGitServer::~HttpGitServer() {
  stop();
}

void HttpGitServer::start() {
  if (m_tls) {
    m_server = std::make_unique<httplib::SSLServer>((m_dir / "server.pem").c_str(),
                                                    (m_dir / "server.key").c_str());
  } else {
    m_server = std::make_unique<httplib::Server>();
  }
  // A slow client (a daemon built with ThreadSanitizer) must not be cut off
  // mid-push by httplib's 5 s default.
  m_server->set_read_timeout(60, 0);
  m_server->set_write_timeout(60, 0);
  // libgit2 sends a push's pack on the connection of its ref listing; packing
  // on a loaded machine can outlast httplib's 5 s keep-alive, and a closed
  // connection fails the push with "unexpected EOF".
  m_server->set_keep_alive_timeout(60);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { serve(req, res); };
  m_server->Get(".*", handler);
  m_server->Post(".*", handler);
  if (!m_server->bind_to_port("127.0.0.1", m_port)) {
    throw std::runtime_error("cannot bind the git HTTP server");
  }
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  eventually(5, [&] { return m_server->is_running(); });
}

void HttpGitServer::stop() {
  if (m_server) {
    m_server->stop();
  }
  if (m_thread.joinable()) {
    m_thread.join();
  }
  m_server.reset();
}

// HTTPS by the name "localhost": libgit2 1.5 does not match IP addresses in
// a certificate's subjectAltName.
std::string HttpGitServer::url() const {
  return std::string(m_tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(m_port) +
         "/remote.git";
}

std::string HttpGitServer::url_with_token() const {
  return std::string(m_tls ? "https" : "http") + "://" + m_user + ":" + m_token +
         (m_tls ? "@localhost:" : "@127.0.0.1:") + std::to_string(m_port) + "/remote.git";
}

// git http-backend as a CGI program: the request in environment variables and
// on stdin, the answer's headers and body on stdout.
void HttpGitServer::serve(const httplib::Request& req, httplib::Response& res) {
  if (req.get_header_value("Authorization") != "Basic " + base64_encode(m_user + ":" + m_token)) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"git\"");
    return;
  }
  static const RE2 k_safe(R"([A-Za-z0-9/._=&-]*)");
  if (!RE2::FullMatch(req.path, k_safe)) {
    res.status = 400;
    return;
  }
  std::string query;
  for (const auto& [k, v] : req.params) {
    query += (query.empty() ? "" : "&") + k + "=" + v;
  }
  if (!RE2::FullMatch(query, k_safe)) {
    res.status = 400;
    return;
  }
  bool push = req.method == "POST" && req.path.ends_with("/git-receive-pack");
  if (push) {
    ++m_pushes_in_flight;
    std::this_thread::sleep_for(m_push_delay.load());
  }
  static std::atomic<int> counter{0};
  auto in = m_dir / ("request-" + std::to_string(++counter));
  write_file(in, req.body);
  bool gzipped = req.body.size() >= 2 && static_cast<unsigned char>(req.body[0]) == 0x1f &&
                 static_cast<unsigned char>(req.body[1]) == 0x8b;
  std::string command =
      "env GIT_PROJECT_ROOT='" + m_dir.string() + "' GIT_HTTP_EXPORT_ALL=1 REMOTE_USER='" + m_user +
      "' REQUEST_METHOD=" + req.method + " PATH_INFO='" + req.path + "' QUERY_STRING='" + query +
      "' CONTENT_TYPE='" + req.get_header_value("Content-Type") +
      "' CONTENT_LENGTH=" + std::to_string(req.body.size()) +
      (gzipped ? " HTTP_CONTENT_ENCODING=gzip" : "") + " GIT_PROTOCOL='" +
      req.get_header_value("Git-Protocol") + "' git http-backend < '" + in.string() + "'";
  std::string out = run(command);
  fs::remove(in);
  if (push) {
    ++m_pushes_received;
    --m_pushes_in_flight;
  }
  auto end = out.find("\r\n\r\n");
  std::size_t skip = 4;
  if (end == std::string::npos) {
    end = out.find("\n\n");
    skip = 2;
  }
  if (end == std::string::npos) {
    res.status = 500;
    return;
  }
  std::string content_type = "text/plain";
  res.status = 200;
  std::stringstream headers(out.substr(0, end));
  std::string line;
  while (std::getline(headers, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 2);
    if (name == "Status") {
      res.status = std::stoi(value);
    } else if (name == "Content-Type") {
      content_type = value;
    } else {
      res.set_header(name, value);
    }
  }
  res.set_content(out.substr(end + skip), content_type);
}

}  // namespace calloutd::testing
