// Alertmanager's label matchers (`severity=~"critical|page"`, `team!="qa"`),
// with the same semantics: regular expressions are RE2 and fully anchored, a
// missing label matches as the empty string.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "daemon/base/result.hpp"
#include "receivers/event.hpp"

namespace calloutd {

class Matcher {
 public:
  enum class Op { equal, not_equal, regex, not_regex };

  // Parses one matcher. Errors quote the input:
  // `unknown operator "=!" in 'severity=!"page"'`.
  static Result<Matcher> parse(std::string_view text);

  bool matches(const Labels& labels) const;
  const std::string& name() const { return m_name; }
  std::string to_string() const;

 private:
  std::string m_name;
  Op m_op = Op::equal;
  std::string m_value;
  std::shared_ptr<const RE2> m_regex;  // shared: matchers are copied with their route
};

// Parses a `matchers:` item, which Alertmanager accepts either as one matcher
// or as a brace list: `{team="db", severity=~"critical|page"}`.
Result<std::vector<Matcher>> parse_matchers(std::string_view text);

bool all_match(const std::vector<Matcher>& matchers, const Labels& labels);

}  // namespace calloutd
