// The write-up linter behind `calloutctl lint`: checks a callout.md or
// postmortem.md against the template in use (its keys are read from the
// template itself) and against the rules of TEMPLATES.md: every key present
// and in order, n/a rather than empty, no names or pronouns in the narrative,
// trackable action items, timelines that parse and are ordered, and the
// folder layout. Pure: text in, diagnostics out.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace calloutd::lint {

enum class Level { error, warning };

struct Diagnostic {
  std::string file;  // as given (relative to the repository root)
  int line = 0;      // 1-based; 0 for the file as a whole
  int column = 0;    // 1-based; 0 when unknown
  Level level = Level::error;
  std::string rule;  // keys, empty-key, pronoun, name, blame, action-items, timeline, layout
  std::string message;
  std::string to_string() const;  // FILE:LINE:COL: error: message [rule]
};

enum class Kind { callout, postmortem };

struct Context {
  std::string callout_template;  // the template texts the keys come from
  std::string postmortem_template;
  std::set<std::string> names;  // people: the rota and every Team roles holder
  // Words the built-in list of given names knows that are not people here
  // (May, Will, Max, a product called Jenkins): the repository's
  // lint-allow.txt. They also let a rota member's first name that is a word
  // ("Will") start a sentence.
  std::set<std::string> allowed_words;
  std::string today;  // YYYY-MM-DD, for messages only
};

// Checks one write-up; `path` is its path relative to the repository root.
std::vector<Diagnostic> check_file(const std::string& path, std::string_view text, Kind kind,
                                   const Context& context);

// Checks the folder layout of a write-up's path
// (<technology>/<issue>-<YYYY-MM-DD>[-N]/callout.md|postmortem.md).
std::vector<Diagnostic> check_layout(const std::string& path);

}  // namespace calloutd::lint
