// Internals of reading calloutd.yml (config.cpp and the *_section.cpp files):
// the Checker that collects every problem with its line, and the readers of
// the sections that have a file of their own. Not for use outside config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.hpp"

namespace calloutd::config_detail {

// Collects errors with the file and line of the node they concern. The
// readers record a problem and go on, so that one run reports them all.
class Checker {
 public:
  Checker(std::string source, std::string base_dir)
      : m_source(std::move(source)), m_base_dir(std::move(base_dir)) {}

  void error(const YAML::Node& node, const std::string& message);
  void error_at(int line, const std::string& message) { m_errors.emplace_back(line, message); }

  // `FILE:LINE: message`, in file order as a compiler reports them.
  std::vector<std::string> sorted_errors() const;

  // A mapping whose keys are all in `allowed`; unknown keys are errors.
  // False when there is nothing to read (null, or not a mapping).
  bool mapping(const YAML::Node& node, const std::string& path,
               const std::set<std::string>& allowed);

  bool scalar(const YAML::Node& node, const std::string& path, std::string& out);

  template <typename Int>
  void number(const YAML::Node& node, const std::string& path, Int& out, Int min) {
    std::string text;
    if (!scalar(node, path, text)) {
      return;
    }
    try {
      std::size_t used = 0;
      long long v = std::stoll(text, &used);
      if (used != text.size() || v < static_cast<long long>(min)) {
        throw std::invalid_argument(text);
      }
      out = static_cast<Int>(v);
    } catch (const std::exception&) {
      error(node, path + ": \"" + text + "\" is not an integer >= " + std::to_string(min));
    }
  }

  void duration(const YAML::Node& node, const std::string& path, std::chrono::seconds& out);
  void boolean(const YAML::Node& node, const std::string& path, bool& out);

  // Reads a secret from a file named in the config (trailing newline dropped).
  void secret_file(const YAML::Node& node, const std::string& path, std::string& out);

  // `value` relative to the config file's folder, unless absolute or empty.
  std::string resolve_path(const std::string& value) const;

  // Every key the mappings read so far allow, as `section.key` with list
  // items written `[]` (`routes[].matchers`): what the docs must cover.
  const std::set<std::string>& known_keys() const { return m_known_keys; }

 private:
  std::string m_source;
  std::string m_base_dir;
  std::vector<std::pair<int, std::string>> m_errors;
  std::set<std::string> m_known_keys;
};

// repository_section.cpp: `repository`, with its `remote`.
void read_repository(Checker& c, const YAML::Node& node, Config& cfg);
// receivers_section.cpp: `receivers` (credentials, PagerDuty) and `routes`.
void read_receivers(Checker& c, const YAML::Node& node, Config& cfg);
void read_routes(Checker& c, const YAML::Node& node, Config& cfg);
// rota_section.cpp: `rota`.
void read_rotas(Checker& c, const YAML::Node& node, Config& cfg);

}  // namespace calloutd::config_detail
