#include "daemon/git/remote.hpp"

#include <utility>  // before Asio: Boost 1.74 misses it under C++20 with GCC 12

#include <git2.h>
#include <re2/re2.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "daemon/base/log.hpp"
#include "daemon/git/known_hosts.hpp"

namespace calloutd {
namespace {

std::string git_error_text() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
}

std::string oid_hex(const git_oid* oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  return hex;
}

const char* key_type_name(git_cert_ssh_raw_type_t t) {
  switch (t) {
    case GIT_CERT_SSH_RAW_TYPE_RSA:
      return "ssh-rsa";
    case GIT_CERT_SSH_RAW_TYPE_DSS:
      return "ssh-dss";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
      return "ecdsa-sha2-nistp256";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
      return "ecdsa-sha2-nistp384";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
      return "ecdsa-sha2-nistp521";
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
      return "ssh-ed25519";
    default:
      return "unknown";
  }
}

// Sets "origin" in the repository's config to `url` (and the usual fetch
// refspec) unless it already is; libgit2's return code.
int set_origin(git_repository* repo, const std::string& url) {
  git_config* cfg = nullptr;
  git_buf current = GIT_BUF_INIT;
  int rc = git_repository_config(&cfg, repo);
  bool same = rc == 0 && git_config_get_string_buf(&current, cfg, "remote.origin.url") == 0 &&
              url == current.ptr;
  if (rc == 0 && !same) {
    rc = git_config_set_string(cfg, "remote.origin.url", url.c_str());
    if (rc == 0) {
      rc = git_config_set_string(cfg, "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
    }
  }
  git_buf_dispose(&current);
  git_config_free(cfg);
  return rc;
}

// Where a remote URL connects to: the scheme (http, https; empty for SSH and
// disk), the host (empty on disk) and the port.
struct Endpoint {
  std::string scheme;
  std::string host;
  int port = 22;
};

// ssh://[user@]host[:port]/path, user@host:path and http(s)://; anything else
// is on disk.
Endpoint endpoint_of(const std::string& url) {
  Endpoint out;
  std::string port;
  if (RE2::PartialMatch(url, R"(^(https?)://(?:[^@/]*@)?([^:/]+)(?::(\d+))?/)", &out.scheme,
                        &out.host, &port)) {
    out.port = port.empty() ? (out.scheme == "https" ? 443 : 80) : std::stoi(port);
  } else if (RE2::PartialMatch(url, R"(^ssh://(?:[^@/]*@)?([^:/]+)(?::(\d+))?/)", &out.host,
                               &port) ||
             RE2::PartialMatch(url, R"(^[^@/]+@([^:/]+):)", &out.host)) {
    out.port = port.empty() ? 22 : std::stoi(port);
  }
  return out;
}

}  // namespace

// libgit2's callbacks, with the Remote as payload. Each network operation
// offers the credentials once: a second request means they were refused.
struct Remote::Callbacks {
  static int credentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                         unsigned int allowed, void* payload) {
    auto& self = *static_cast<Remote*>(payload);
    const auto& c = self.m_config;
    std::string user = username_from_url != nullptr ? username_from_url : "git";
    if (!self.m_auth_error.empty()) {
      return GIT_EAUTH;  // already offered and refused
    }
    if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0 && !c.ssh_key_file.empty()) {
      self.m_auth_error = "the remote refused the SSH key " + c.ssh_key_file + " for user \"" +
                          user + "\" (is it a deploy key with write access?)";
      return git_credential_ssh_key_new(out, user.c_str(), nullptr, c.ssh_key_file.c_str(),
                                        nullptr);
    }
    if ((allowed & GIT_CREDENTIAL_USERNAME) != 0) {
      return git_credential_username_new(out, user.c_str());
    }
    if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !c.token.empty()) {
      self.m_auth_error = "the remote refused the token from token_file for user \"" +
                          c.token_username + "\" (expired, or not allowed to push?)";
      return git_credential_userpass_plaintext_new(out, c.token_username.c_str(), c.token.c_str());
    }
    self.m_auth_error = "the remote asks for credentials this configuration has none of";
    return GIT_EAUTH;
  }

  static int certificate(git_cert* cert, int /*valid*/, const char* host, void* payload) {
    auto& self = *static_cast<Remote*>(payload);
    if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
      return GIT_PASSTHROUGH;  // TLS: libgit2 checks the chain against the system's CAs
    }
    const auto* hostkey = reinterpret_cast<const git_cert_hostkey*>(cert);
    if ((hostkey->type & GIT_CERT_SSH_RAW) == 0) {
      self.m_auth_error = "the SSH server's host key cannot be read";
      return GIT_ECERTIFICATE;
    }
    std::string_view blob(hostkey->hostkey, hostkey->hostkey_len);
    const std::string& file = self.m_config.known_hosts_file;
    std::string known;
    {
      std::ifstream in(file);
      std::stringstream ss;
      ss << in.rdbuf();
      known = ss.str();
    }
    std::string name = host != nullptr ? host : self.m_host;
    auto status = check_host_key(known, name, self.m_port, blob);
    if (status == HostKeyStatus::known) {
      return 0;
    }
    std::string fingerprint = host_key_fingerprint(blob);
    if (status == HostKeyStatus::unknown && self.m_config.accept_new_host_key) {
      std::ofstream out(file, std::ios::app);
      out << known_hosts_line(name, self.m_port, key_type_name(hostkey->raw_type), blob);
      if (!out.flush()) {
        self.m_auth_error = "cannot add the host key to " + file;
        return GIT_ECERTIFICATE;
      }
      log::warn("added a new SSH host key to known_hosts (accept_new_host_key)",
                {{"host", name}, {"fingerprint", fingerprint}, {"file", file}});
      return 0;
    }
    self.m_auth_error =
        status == HostKeyStatus::mismatch
            ? "the SSH host key of " + name + " (" + fingerprint + ") does not match " + file +
                  ": refusing to connect (a changed key may be an attack)"
            : "the SSH host key of " + name + " (" + fingerprint + ") is not in " + file +
                  " (add it with ssh-keyscan after checking the fingerprint, or set "
                  "accept_new_host_key: true)";
    return GIT_ECERTIFICATE;
  }

  static int push_update(const char* refname, const char* status, void* payload) {
    auto& self = *static_cast<Remote*>(payload);
    if (status != nullptr) {
      self.m_auth_error.clear();
      self.m_push_rejection = std::string(refname) + ": " + status;
    }
    return 0;
  }

  static git_remote_callbacks make(Remote& self) {
    git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
    cb.credentials = credentials;
    cb.certificate_check = certificate;
    cb.push_update_reference = push_update;
    cb.payload = &self;
    return cb;
  }
};

Remote::Remote(const RemoteConfig& config, const std::string& repo_path, std::string branch)
    : m_config(config), m_branch(std::move(branch)) {
  git_libgit2_init();
  if (git_repository_open_ext(&m_repo, repo_path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) !=
      0) {
    std::string message = "cannot open the repository \"" + repo_path + "\": " + git_error_text();
    git_libgit2_shutdown();
    throw std::runtime_error(message);
  }
  // "origin" in the repository's config, for people using the clone: written
  // directly (git_remote_lookup and git_remote_create leak in libgit2 1.5:
  // a regex match of about 10 KiB per config key, for their insteadOf
  // handling, which a lookup per fetch made hundreds of KiB a minute).
  int rc = set_origin(m_repo, config.url);
  // The daemon's own handle: in memory, the URL as configured, no insteadOf.
  if (rc == 0) {
    git_remote_create_options options = GIT_REMOTE_CREATE_OPTIONS_INIT;
    options.repository = m_repo;
    options.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    rc = git_remote_create_with_opts(&m_handle, config.url.c_str(), &options);
  }
  if (rc != 0) {
    std::string message = "cannot configure the remote: " + git_error_text();
    git_repository_free(m_repo);
    git_libgit2_shutdown();
    throw std::runtime_error(message);
  }
  // A self-hosted server's CA, trusted besides the system's (process-wide in libgit2).
  if (!config.ca_file.empty() &&
      git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, config.ca_file.c_str(), nullptr) != 0) {
    std::string message = "cannot use ca_file " + config.ca_file + ": " + git_error_text();
    git_remote_free(m_handle);
    git_repository_free(m_repo);
    git_libgit2_shutdown();
    throw std::runtime_error(message);
  }
  // Host and port: for the host key check (ssh://[user@]host[:port]/path or
  // user@host:path) and for the connect timeout (those and http(s)://).
  Endpoint endpoint = endpoint_of(config.url);
  m_scheme = std::move(endpoint.scheme);
  m_host = std::move(endpoint.host);
  m_port = endpoint.port;
}

Remote::~Remote() {
  git_remote_free(m_handle);
  git_repository_free(m_repo);
  git_libgit2_shutdown();
}

std::string Remote::failure(const std::string& what, int rc) {
  // The callbacks' own account when they are what failed (credentials
  // refused, host key rejected); libgit2's otherwise.
  bool ours =
      (rc == GIT_EAUTH || rc == GIT_ECERTIFICATE || rc == GIT_EUSER) && !m_auth_error.empty();
  return what + " " + m_config.url + ": " + (ours ? m_auth_error : git_error_text());
}

// libgit2 1.5 has no connect timeout: a host that drops packets would hold
// the caller for the kernel's minutes. A TCP connect first, bounded.
std::optional<std::string> Remote::unreachable() const {
  if (m_host.empty()) {
    return std::nullopt;  // a repository on disk
  }
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code result = boost::asio::error::timed_out;
  resolver.async_resolve(m_host, std::to_string(m_port),
                         [&](const boost::system::error_code& ec, const auto& endpoints) {
                           if (ec) {
                             result = ec;
                             return;
                           }
                           boost::asio::async_connect(socket, endpoints,
                                                      [&](const boost::system::error_code& e,
                                                          const auto&) { result = e; });
                         });
  io.run_for(m_config.connect_timeout);
  if (!result) {
    return std::nullopt;
  }
  return "cannot connect to " + m_host + ":" + std::to_string(m_port) +
         (result == boost::asio::error::timed_out
              ? " within " + std::to_string(m_config.connect_timeout.count()) + " s"
              : ": " + result.message());
}

Result<std::string> Remote::fetch() {
  m_auth_error.clear();
  if (auto why = unreachable()) {
    return Error{"cannot fetch from " + m_config.url + ": " + *why};
  }
  std::string refspec = "+refs/heads/" + m_branch + ":" + tracking_ref();
  char* specs[] = {refspec.data()};
  git_strarray refspecs{specs, 1};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.callbacks = Callbacks::make(*this);
  opts.prune = GIT_FETCH_NO_PRUNE;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  int rc = git_remote_fetch(m_handle, &refspecs, &opts, "calloutd: fetch");
  if (rc != 0) {
    return Error{failure("cannot fetch from", rc)};
  }
  m_auth_error.clear();
  git_oid oid;
  if (git_reference_name_to_id(&oid, m_repo, tracking_ref().c_str()) != 0) {
    return std::string();  // the remote has no such branch yet
  }
  return oid_hex(&oid);
}

Remote::PushOutcome Remote::push(const std::string& commit) {
  m_auth_error.clear();
  m_push_rejection.clear();
  if (auto why = unreachable()) {
    return {PushStatus::failed, "cannot push to " + m_config.url + ": " + *why};
  }
  // Push exactly `commit`, through a ref of our own (the branch may move meanwhile).
  git_oid oid;
  git_reference* ref = nullptr;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0 ||
      git_reference_create(&ref, m_repo, "refs/calloutd/push", &oid, 1, "calloutd: push") != 0) {
    return {PushStatus::failed, failure("cannot prepare the push to", 0)};
  }
  git_reference_free(ref);
  std::string refspec = "refs/calloutd/push:refs/heads/" + m_branch;
  char* specs[] = {refspec.data()};
  git_strarray refspecs{specs, 1};
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks = Callbacks::make(*this);
  int rc = git_remote_push(m_handle, &refspecs, &opts);
  if (rc == GIT_ENONFASTFORWARD || (rc == 0 && !m_push_rejection.empty())) {
    return {PushStatus::rejected,
            m_push_rejection.empty() ? "the remote branch has moved" : m_push_rejection};
  }
  if (rc != 0) {
    return {PushStatus::failed, failure("cannot push to", rc)};
  }
  // The tracking ref follows what the remote now has.
  git_reference_create(&ref, m_repo, tracking_ref().c_str(), &oid, 1, "calloutd: pushed");
  git_reference_free(ref);
  return {PushStatus::pushed, ""};
}

Remote::Unpushed Remote::unpushed(const std::string& tip) {
  Unpushed out;
  git_oid oid;
  git_revwalk* walk = nullptr;
  if (tip.empty() || git_oid_fromstr(&oid, tip.c_str()) != 0 ||
      git_revwalk_new(&walk, m_repo) != 0) {
    return out;
  }
  git_oid base;
  if (git_revwalk_push(walk, &oid) == 0 &&
      (git_reference_name_to_id(&base, m_repo, tracking_ref().c_str()) != 0 ||
       git_revwalk_hide(walk, &base) == 0)) {
    while (git_revwalk_next(&oid, walk) == 0) {
      git_commit* c = nullptr;
      if (git_commit_lookup(&c, m_repo, &oid) == 0) {
        auto t = static_cast<std::int64_t>(git_commit_time(c));
        out.oldest_time = out.commits == 0 ? t : std::min(out.oldest_time, t);
        ++out.commits;
        git_commit_free(c);
      }
    }
  }
  git_revwalk_free(walk);
  return out;
}

}  // namespace calloutd
