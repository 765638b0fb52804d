// The configuration reference (docs/configuration.md) and the example config
// (config/calloutd.yml) against the config reader itself: every key the reader
// accepts is documented, with whether a reload applies it; no row names a key
// the reader does not know.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "daemon/config/config.hpp"
#include "daemon/config/reload.hpp"

namespace calloutd {
namespace {

const std::string k_source = CALLOUTD_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every key the reader allows in the example config and in a file that has
// each optional section the example leaves commented out.
std::set<std::string> reader_keys() {
  std::set<std::string> keys;
  for (const char* file : {"/config/calloutd.yml", "/tests/unit/config/every_section.yml"}) {
    auto loaded = parse_config(read_text(k_source + file), file, k_source + "/config");
    keys.insert(loaded.known_keys.begin(), loaded.known_keys.end());
  }
  return keys;
}

// The reference's rows: | `key` | default | reload | meaning |.
std::map<std::string, std::string> reference_rows() {
  static const RE2 k_row(R"(\|\s*`([^`]+)`\s*\|[^|\n]*\|\s*(\w+)\s*\|)");
  std::map<std::string, std::string> rows;
  std::string text = read_text(k_source + "/docs/configuration.md");
  re2::StringPiece in(text);
  std::string key;
  std::string reload;
  while (RE2::FindAndConsume(&in, k_row, &key, &reload)) {
    rows[key] = reload;
  }
  return rows;
}

bool is_section(const std::set<std::string>& keys, const std::string& key) {
  auto next = keys.upper_bound(key);
  return next != keys.end() && (next->rfind(key + ".", 0) == 0 || next->rfind(key + "[].", 0) == 0);
}

TEST(ReferenceTest, TheReaderFindsTheKeysOfEverySection) {
  auto keys = reader_keys();
  // A sample from each depth, so that a reader that stopped recording fails here.
  for (const char* key : {"web.listen_address", "repository.remote.url", "routes[].matchers",
                          "receivers.alertmanager.basic_auth.password_file",
                          "receivers.pagerduty.routes[].require_signature", "rota[].primary",
                          "response_targets.MPI.acknowledge"}) {
    EXPECT_TRUE(keys.contains(key)) << key;
  }
}

TEST(ReferenceTest, EveryKeyHasARowSayingWhetherAReloadAppliesIt) {
  auto keys = reader_keys();
  auto rows = reference_rows();
  auto restart = restart_only_keys();
  for (const auto& key : keys) {
    auto row = rows.find(key);
    if (row == rows.end()) {
      ADD_FAILURE() << "docs/configuration.md has no row for `" << key << "`";
      continue;
    }
    if (is_section(keys, key)) {
      continue;  // a section's row says what is in it; its keys say reload or restart
    }
    bool restart_only = std::find(restart.begin(), restart.end(), key) != restart.end();
    EXPECT_EQ(row->second, restart_only ? "restart" : "reload") << key;
  }
  for (const auto& [key, reload] : rows) {
    EXPECT_TRUE(keys.contains(key)) << "docs/configuration.md documents `" << key
                                    << "`, which the config reader does not accept";
  }
}

TEST(ReferenceTest, TheExampleConfigShowsEveryKey) {
  std::string example = read_text(k_source + "/config/calloutd.yml");
  for (const auto& key : reader_keys()) {
    std::string leaf = key.substr(key.find_last_of('.') + 1);
    leaf = leaf.substr(0, leaf.find('['));
    // As a key (`leaf:`), commented out or not, or inside a flow map (`{P1: MPI}`).
    RE2 shown("(?m)(^[\\s#-]*|[{,]\\s*)" + RE2::QuoteMeta(leaf) + ":");
    EXPECT_TRUE(RE2::PartialMatch(example, shown)) << "config/calloutd.yml does not show " << key;
  }
}

}  // namespace
}  // namespace calloutd
