#include "daemon/config/reader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <re2/re2.h>

#include "daemon/base/duration.hpp"

namespace calloutd::config_detail {

namespace fs = std::filesystem;

void Checker::error(const YAML::Node& node, const std::string& message) {
  int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  error_at(line, message);
}

std::vector<std::string> Checker::sorted_errors() const {
  auto errors = m_errors;
  std::stable_sort(errors.begin(), errors.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [line, message] : errors) {
    out.push_back(m_source + ":" + std::to_string(line) + ": " + message);
  }
  return out;
}

bool Checker::mapping(const YAML::Node& node, const std::string& path,
                      const std::set<std::string>& allowed) {
  static const RE2 k_index(R"(\[\d+\])");
  std::string section = path;
  RE2::GlobalReplace(&section, k_index, "[]");
  for (const auto& key : allowed) {
    m_known_keys.insert(section.empty() ? key : section + "." + key);
  }
  if (node.IsNull()) {
    return false;  // a key with only comments under it: all defaults
  }
  if (!node.IsMap()) {
    error(node, path + ": expected a mapping");
    return false;
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      error(kv.first, (path.empty() ? "" : path + ": ") + "keys must be plain strings");
      continue;
    }
    auto key = kv.first.as<std::string>();
    if (!allowed.contains(key)) {
      error(kv.first, path + (path.empty() ? "" : ".") + key + ": unknown key \"" + key + "\"");
    }
  }
  return true;
}

bool Checker::scalar(const YAML::Node& node, const std::string& path, std::string& out) {
  if (!node.IsScalar()) {
    error(node, path + ": expected a string");
    return false;
  }
  out = node.as<std::string>();
  return true;
}

void Checker::duration(const YAML::Node& node, const std::string& path, std::chrono::seconds& out) {
  std::string text;
  if (!scalar(node, path, text)) {
    return;
  }
  auto d = parse_duration(text);
  if (!d) {
    error(node, path + ": " + d.error());
  } else {
    out = *d;
  }
}

void Checker::boolean(const YAML::Node& node, const std::string& path, bool& out) {
  std::string text;
  if (!scalar(node, path, text)) {
    return;
  }
  if (text != "true" && text != "false") {
    error(node, path + ": \"" + text + "\" is not true or false");
    return;
  }
  out = text == "true";
}

void Checker::secret_file(const YAML::Node& node, const std::string& path, std::string& out) {
  std::string name;
  if (!scalar(node, path, name)) {
    return;
  }
  fs::path p = fs::path(name).is_absolute() ? fs::path(name) : fs::path(m_base_dir) / name;
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    error(node, path + ": cannot read \"" + p.string() + "\"");
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  if (out.empty()) {
    error(node, path + ": \"" + p.string() + "\" is empty");
  }
}

std::string Checker::resolve_path(const std::string& value) const {
  if (value.empty() || fs::path(value).is_absolute()) {
    return value;
  }
  return (fs::path(m_base_dir) / value).lexically_normal().string();
}

}  // namespace calloutd::config_detail
