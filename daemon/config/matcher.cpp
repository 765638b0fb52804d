#include "daemon/config/matcher.hpp"

#include <nlohmann/json.hpp>

namespace calloutd {
namespace {

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits a brace list on commas outside double quotes.
std::vector<std::string_view> split_list(std::string_view body) {
  std::vector<std::string_view> parts;
  bool in_quotes = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && in_quotes) {
      ++i;
    } else if (body[i] == '"') {
      in_quotes = !in_quotes;
    } else if (body[i] == ',' && !in_quotes) {
      parts.push_back(trim(body.substr(start, i - start)));
      start = i + 1;
    }
  }
  auto last = trim(body.substr(start));
  if (!last.empty() || !parts.empty()) {
    parts.push_back(last);
  }
  return parts;
}

}  // namespace

Result<Matcher> Matcher::parse(std::string_view text) {
  static const RE2 k_shape(R"(\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*([=!~<>]+)\s*(.*?)\s*)");
  std::string name, op, raw_value;
  if (!RE2::FullMatch(text, k_shape, &name, &op, &raw_value)) {
    return Error{"bad matcher " + quoted(text) + " (expected name, operator, value: team=\"db\")"};
  }
  Matcher m;
  m.m_name = name;
  if (op == "=") {
    m.m_op = Op::equal;
  } else if (op == "!=") {
    m.m_op = Op::not_equal;
  } else if (op == "=~") {
    m.m_op = Op::regex;
  } else if (op == "!~") {
    m.m_op = Op::not_regex;
  } else {
    return Error{"unknown operator \"" + op + "\" in " + quoted(text)};
  }
  if (raw_value.size() >= 1 && raw_value.front() == '"') {
    // A quoted value uses JSON/Go escapes; let the JSON parser unquote it.
    auto parsed = nlohmann::json::parse(raw_value, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_string()) {
      return Error{"bad quoted value " + raw_value + " in " + quoted(text)};
    }
    m.m_value = parsed.get<std::string>();
  } else {
    if (raw_value.find_first_of("\"{}, ") != std::string::npos) {
      return Error{"unquoted value " + raw_value + " holds a quote, brace, comma or space in " +
                   quoted(text)};
    }
    m.m_value = raw_value;
  }
  if (m.m_op == Op::regex || m.m_op == Op::not_regex) {
    auto re = std::make_shared<RE2>("^(?:" + m.m_value + ")$", RE2::Quiet);
    if (!re->ok()) {
      return Error{"bad regular expression \"" + m.m_value + "\" in " + quoted(text) + ": " +
                   re->error()};
    }
    m.m_regex = std::move(re);
  }
  return m;
}

bool Matcher::matches(const Labels& labels) const {
  auto it = labels.find(m_name);
  const std::string empty;
  const std::string& value = it == labels.end() ? empty : it->second;
  switch (m_op) {
    case Op::equal:
      return value == m_value;
    case Op::not_equal:
      return value != m_value;
    case Op::regex:
      return RE2::FullMatch(value, *m_regex);
    case Op::not_regex:
      return !RE2::FullMatch(value, *m_regex);
  }
  return false;
}

std::string Matcher::to_string() const {
  static constexpr const char* k_ops[] = {"=", "!=", "=~", "!~"};
  return m_name + k_ops[static_cast<int>(m_op)] + nlohmann::json(m_value).dump();
}

Result<std::vector<Matcher>> parse_matchers(std::string_view text) {
  auto t = trim(text);
  std::vector<std::string_view> parts;
  if (!t.empty() && t.front() == '{') {
    if (t.back() != '}') {
      return Error{"unclosed brace in " + quoted(text)};
    }
    parts = split_list(t.substr(1, t.size() - 2));
  } else {
    parts.push_back(t);
  }
  std::vector<Matcher> out;
  for (auto part : parts) {
    auto m = Matcher::parse(part);
    if (!m) {
      return Error{m.error()};
    }
    out.push_back(std::move(*m));
  }
  return out;
}

bool all_match(const std::vector<Matcher>& matchers, const Labels& labels) {
  for (const auto& m : matchers) {
    if (!m.matches(labels)) {
      return false;
    }
  }
  return true;
}

}  // namespace calloutd
