// known_hosts files as OpenSSH writes them: ssh-keygen makes the keys, hashes
// the host names (-H) and must agree with what check_host_key says.
#include "daemon/git/known_hosts.hpp"

#include <gtest/gtest.h>

#include "daemon/base/hash.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::write_file;

// A fresh ed25519 public key: its known_hosts fields and its wire-format blob.
struct Key {
  std::string fields;  // "ssh-ed25519 AAAA..."
  std::string blob;
};
Key make_key(const TempDir& dir, const std::string& name) {
  auto path = dir.path() / name;
  run("ssh-keygen -q -t ed25519 -N '' -C '' -f '" + path.string() + "'");
  auto pub = read_file(path.string() + ".pub");
  Key key;
  key.fields = pub.substr(0, pub.find_last_not_of(" \n") + 1);
  key.blob = base64_decode(key.fields.substr(key.fields.find(' ') + 1));
  return key;
}

TEST(KnownHostsTest, PlainNamesPortsAndPatterns) {
  TempDir dir;
  auto key = make_key(dir, "k");
  auto other = make_key(dir, "o");
  std::string file =
      "# comment\n\n"
      "github.com,140.82.121.3 " +
      key.fields +
      "\n"
      "[git.example.org]:2222 " +
      key.fields +
      "\n"
      "*.internal,!evil.internal " +
      key.fields + "\n";
  EXPECT_EQ(check_host_key(file, "github.com", 22, key.blob), HostKeyStatus::known);
  EXPECT_EQ(check_host_key(file, "GitHub.com", 22, key.blob), HostKeyStatus::known);
  EXPECT_EQ(check_host_key(file, "140.82.121.3", 22, key.blob), HostKeyStatus::known);
  // Brackets are literal: the port must match too.
  EXPECT_EQ(check_host_key(file, "git.example.org", 2222, key.blob), HostKeyStatus::known);
  EXPECT_EQ(check_host_key(file, "git.example.org", 22, key.blob), HostKeyStatus::unknown);
  EXPECT_EQ(check_host_key(file, "github.com", 2222, key.blob), HostKeyStatus::unknown);
  EXPECT_EQ(check_host_key(file, "git.internal", 22, key.blob), HostKeyStatus::known);
  EXPECT_EQ(check_host_key(file, "evil.internal", 22, key.blob), HostKeyStatus::unknown);
  EXPECT_EQ(check_host_key(file, "gitlab.com", 22, key.blob), HostKeyStatus::unknown);
  // A listed host presenting another key is a mismatch, never unknown.
  EXPECT_EQ(check_host_key(file, "github.com", 22, other.blob), HostKeyStatus::mismatch);
  EXPECT_EQ(check_host_key(file + "@revoked * " + key.fields + "\n", "github.com", 22, key.blob),
            HostKeyStatus::mismatch);
}

TEST(KnownHostsTest, HashedNamesFromSshKeygen) {
  TempDir dir;
  auto key = make_key(dir, "k");
  auto file = dir.path() / "known_hosts";
  write_file(file, "github.com " + key.fields + "\n[127.0.0.1]:2222 " + key.fields + "\n");
  int status = 0;
  run("ssh-keygen -q -H -f '" + file.string() + "' 2>&1", &status);
  ASSERT_EQ(status, 0);
  auto hashed = read_file(file);
  ASSERT_EQ(hashed.find("github.com"), std::string::npos) << hashed;
  ASSERT_NE(hashed.find("|1|"), std::string::npos);
  EXPECT_EQ(check_host_key(hashed, "github.com", 22, key.blob), HostKeyStatus::known);
  EXPECT_EQ(check_host_key(hashed, "127.0.0.1", 2222, key.blob), HostKeyStatus::known);
  EXPECT_EQ(check_host_key(hashed, "127.0.0.1", 22, key.blob), HostKeyStatus::unknown);
  EXPECT_EQ(check_host_key(hashed, "gitlab.com", 22, key.blob), HostKeyStatus::unknown);
}

TEST(KnownHostsTest, LinesItWritesAreOnesOpenSshReads) {
  TempDir dir;
  auto key = make_key(dir, "k");
  auto file = dir.path() / "known_hosts";
  write_file(file, known_hosts_line("127.0.0.1", 2222, "ssh-ed25519", key.blob) +
                       known_hosts_line("github.com", 22, "ssh-ed25519", key.blob));
  EXPECT_EQ(read_file(file).substr(0, 17), "[127.0.0.1]:2222 ");
  int status = 0;
  auto found = run("ssh-keygen -F '[127.0.0.1]:2222' -f '" + file.string() + "'", &status);
  EXPECT_EQ(status, 0);
  EXPECT_NE(found.find(key.fields), std::string::npos) << found;
  EXPECT_EQ(check_host_key(read_file(file), "github.com", 22, key.blob), HostKeyStatus::known);
  // The fingerprint is the one ssh-keygen -l prints.
  auto printed = run("ssh-keygen -l -f '" + (dir.path() / "k.pub").string() + "'");
  EXPECT_NE(printed.find(host_key_fingerprint(key.blob) + " "), std::string::npos) << printed;
}

}  // namespace
}  // namespace calloutd
