// The lint's wording checks: names outside Team roles and the Owner column,
// pronouns and blaming words in the narrative (quotes and code left alone).
#include "daemon/lint/checks.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "daemon/writeup/markdown.hpp"

namespace calloutd::lint {

namespace {

// --- wording ----------------------------------------------------------------

struct Pronoun {
  Level level;
  const char* hint;
};

const std::map<std::string, Pronoun>& pronouns() {
  static const char* k_who = "write what the system did, not who";
  static const char* k_they = "if it names a person, write the role or the system instead";
  static const std::map<std::string, Pronoun> k{{"i", {Level::error, k_who}},
                                                {"me", {Level::error, k_who}},
                                                {"my", {Level::error, k_who}},
                                                {"mine", {Level::error, k_who}},
                                                {"myself", {Level::error, k_who}},
                                                {"we", {Level::error, k_who}},
                                                {"us", {Level::error, k_who}},
                                                {"our", {Level::error, k_who}},
                                                {"ours", {Level::error, k_who}},
                                                {"ourselves", {Level::error, k_who}},
                                                {"he", {Level::error, k_who}},
                                                {"him", {Level::error, k_who}},
                                                {"his", {Level::error, k_who}},
                                                {"himself", {Level::error, k_who}},
                                                {"she", {Level::error, k_who}},
                                                {"her", {Level::error, k_who}},
                                                {"hers", {Level::error, k_who}},
                                                {"herself", {Level::error, k_who}},
                                                {"they", {Level::warning, k_they}},
                                                {"them", {Level::warning, k_they}},
                                                {"their", {Level::warning, k_they}},
                                                {"theirs", {Level::warning, k_they}},
                                                {"themselves", {Level::warning, k_they}}};
  return k;
}

// A blaming phrase and the blameless way to say it, for the warning.
struct Blame {
  const char* phrase;
  const char* hint;
};

const std::vector<Blame>& blame_phrases() {
  static const char* k_describe = "describe what happened and what the system allowed";
  static const char* k_change =
      "say what changed and what the system failed to handle: \"the deploy changed the pool "
      "size; the service failed to handle the load\"";
  static const char* k_missing =
      "say what the process lacked: \"the runbook had no step for it\", \"nothing checked it\"";
  static const char* k_allowed =
      "say what let it happen: \"the tool accepted the command without a check\"";
  static const char* k_hindsight =
      "say what the people on call could see at the time, and what was missing from it";
  static const std::vector<Blame> k{{"should have known", k_hindsight},
                                    {"should have noticed", k_hindsight},
                                    {"should have checked", k_hindsight},
                                    {"fault of", k_describe},
                                    {"at fault", k_describe},
                                    {"his fault", k_describe},
                                    {"her fault", k_describe},
                                    {"their fault", k_describe},
                                    {"human error", k_allowed},
                                    {"operator error", k_allowed},
                                    {"user error", k_allowed},
                                    {"careless", k_describe},
                                    {"carelessly", k_describe},
                                    {"carelessness", k_describe},
                                    {"negligent", k_describe},
                                    {"negligence", k_describe},
                                    {"to blame", k_describe},
                                    {"blame", k_describe},
                                    {"blamed", k_describe},
                                    {"incompetent", k_describe},
                                    {"sloppy", k_describe},
                                    {"stupid", k_describe},
                                    {"lazy", k_describe},
                                    {"broke", k_change},
                                    {"messed up", k_change},
                                    {"screwed up", k_change},
                                    {"fat-fingered", k_allowed},
                                    {"forgot to", k_missing},
                                    {"forgot", k_missing},
                                    {"failed to notice", k_hindsight},
                                    {"did not notice", k_hindsight},
                                    {"didn't notice", k_hindsight},
                                    {"dropped the ball", k_missing},
                                    {"did not bother", k_missing},
                                    {"didn't bother", k_missing}};
  return k;
}

// Debian's given names ("John", "Grant"), as the built-in list has them.
const std::set<std::string, std::less<>>& given_names() {
  static const std::set<std::string, std::less<>> k = [] {
    std::set<std::string, std::less<>> names;
    for (const auto& line : split_lines(given_names_text())) {
      if (auto name = trim(line); !name.empty()) {
        names.insert(name);
      }
    }
    return names;
  }();
  return k;
}

// Given names that are also the months of dates people write ("on 3 May").
bool month(std::string_view word) {
  return word == "April" || word == "May" || word == "June" || word == "August";
}

// `text` with quoted passages ("...", “...”) blanked out, offsets kept.
std::string without_quotes(std::string text) {
  for (const auto& [open, close] : {std::pair<std::string, std::string>{"\"", "\""},
                                    std::pair<std::string, std::string>{"\u201c", "\u201d"}}) {
    std::size_t from = 0;
    while (true) {
      auto a = text.find(open, from);
      if (a == std::string::npos) {
        break;
      }
      auto b = text.find(close, a + open.size());
      if (b == std::string::npos) {
        break;
      }
      // Every byte, so that columns after the quote stay where they were.
      std::fill(text.begin() + static_cast<long>(a),
                text.begin() + static_cast<long>(b + close.size()), ' ');
      from = b + close.size();
    }
  }
  return text;
}

struct Token {
  std::size_t offset;
  std::string text;
};

// Words: runs of letters (any script: "Zoë" is one word), digits and the
// joiners of identifiers (my-service, api.v1, I/O stay one token), trailing
// punctuation dropped.
std::vector<Token> tokens(const std::string& text) {
  static const RE2 k_word(R"(([\p{L}\p{M}\p{N}_'./:@-]+))");
  std::vector<Token> out;
  re2::StringPiece input(text);
  re2::StringPiece word;
  while (RE2::FindAndConsume(&input, k_word, &word)) {
    std::string w(word);
    auto offset = static_cast<std::size_t>(word.data() - text.data());
    while (!w.empty() && std::string_view(".,:;!?'-/").find(w.back()) != std::string_view::npos) {
      w.pop_back();
    }
    while (!w.empty() && std::string_view("'-./").find(w.front()) != std::string_view::npos) {
      w.erase(0, 1);
      ++offset;
    }
    if (!w.empty()) {
      out.push_back({offset, w});
    }
  }
  return out;
}

// The pronoun a token is, if any: contractions count (we're, he's), and "I"
// and "us" only as written (so "i.e." and "US" are not pronouns).
std::optional<std::string> pronoun_of(const std::string& token) {
  auto base = token.substr(0, token.find('\''));
  if (base.find_first_of("./:@_-0123456789") != std::string::npos) {
    return std::nullopt;
  }
  auto key = lower(base);
  if (!pronouns().contains(key)) {
    return std::nullopt;
  }
  if ((key == "i" && base != "I") || (key == "us" && base != "us")) {
    return std::nullopt;
  }
  return key;
}

bool word_at(const std::string& text, std::size_t at, std::size_t length) {
  // Bytes of multibyte characters count as letters: "Zoë" is not inside "Zoëlle".
  auto is_word = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || c == '_' || u >= 0x80;
  };
  return (at == 0 || !is_word(text[at - 1])) &&
         (at + length >= text.size() || !is_word(text[at + length]));
}

// Starts a sentence: the first word of the run (after a task list's box,
// "[ ] Root cause ..."), or after . ! ? :
bool sentence_start(const std::string& text, std::size_t at) {
  auto before = text.find_last_not_of(" \t", at == 0 ? 0 : at - 1);
  if (at == 0 || before == std::string::npos) {
    return true;
  }
  auto lead = trim(std::string_view(text).substr(0, at));
  return lead == "[ ]" || lead == "[x]" || lead == "[X]" ||
         std::string_view(".!?:").find(text[before]) != std::string_view::npos;
}

// The parts of multi-word names ("Grant" of "Will Grant"), checked as words.
// Only capitalised parts, as people write a name: the lower-case words of a
// name like "callout bot" are ordinary words ("callout opened"), and a
// mention of that holder writes the whole name.
std::set<std::string> name_parts(const std::set<std::string>& names) {
  static const RE2 k_capitalised(R"(\p{Lu}.*)");
  std::set<std::string> parts;
  for (const auto& name : names) {
    for (const auto& t : tokens(name)) {
      if (t.text.size() >= 3 && t.text != name && RE2::FullMatch(t.text, k_capitalised)) {
        parts.insert(t.text);
      }
    }
  }
  return parts;
}

bool names_belong_in(const markdown::TextRun& run) {
  auto key = lower(run.key);
  return key == "team roles" || lower(run.column_header) == "owner" ||
         (key == "review" && lower(run.list_label) == "reviewers");
}

// One run of prose, its quotes blanked out, and where to report in it.
struct Prose {
  const markdown::TextRun& run;
  std::string text;   // without quotes
  std::string where;  // the key it is under, for messages
  int column(std::size_t offset) const { return run.column + static_cast<int>(offset); }
};

using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

// Whole names in the prose; the spans reported.
Spans check_names(const Prose& p, const std::set<std::string>& names, Report& report) {
  Spans named;
  for (const auto& name : names) {
    for (auto at = p.text.find(name); at != std::string::npos; at = p.text.find(name, at + 1)) {
      if (word_at(p.text, at, name.size())) {
        report.add(p.run.line, p.column(at), Level::error, "name",
                   "name \"" + name + "\" in " + p.where +
                       " (names belong in Team roles and the Owner column only)");
        named.emplace_back(at, at + name.size());
      }
    }
  }
  return named;
}

void report_name(const Prose& p, const Token& t, const char* hint, Report& report) {
  report.add(p.run.line, p.column(t.offset), Level::error, "name",
             "name \"" + t.text + "\" in " + p.where + " (" + hint + ")");
}

constexpr const char* k_names_belong = "names belong in Team roles and the Owner column only";
constexpr const char* k_given_name =
    "names belong in Team roles and the Owner column only; a word that is not a person here "
    "goes in the repository's lint-allow.txt";

// Pronouns and names: parts of the names of people known here (also at the
// start of a sentence, unless allowed), and given names from the built-in
// list (not at the start of a sentence: "Will this recur?"), outside the
// names already reported.
void check_words(const Prose& p, const std::set<std::string>& parts, const Spans& named,
                 const Context& context, Report& report) {
  for (const auto& t : tokens(p.text)) {
    bool inside = std::any_of(named.begin(), named.end(), [&](const auto& span) {
      return t.offset >= span.first && t.offset < span.second;
    });
    if (inside) {
      continue;
    }
    if (auto pronoun = pronoun_of(t.text)) {
      const auto& info = pronouns().at(*pronoun);
      report.add(p.run.line, p.column(t.offset), info.level, "pronoun",
                 "pronoun \"" + t.text.substr(0, t.text.find('\'')) + "\" in " + p.where + " (" +
                     info.hint + ")");
    } else if (parts.contains(t.text)) {
      if (!sentence_start(p.text, t.offset) || !context.allowed_words.contains(t.text)) {
        report_name(p, t, k_names_belong, report);
      }
    } else if (given_names().contains(t.text) && !context.allowed_words.contains(t.text) &&
               !month(t.text) && !sentence_start(p.text, t.offset)) {
      report_name(p, t, k_given_name, report);
    }
  }
}

void check_blame(const Prose& p, Report& report) {
  auto low = lower(p.text);
  Spans reported;  // "forgot to" is not also "forgot"
  for (const auto& [phrase, hint] : blame_phrases()) {
    const std::string_view words(phrase);
    for (auto at = low.find(words); at != std::string::npos; at = low.find(words, at + 1)) {
      bool inside = std::any_of(reported.begin(), reported.end(), [&](const auto& span) {
        return at < span.second && at + words.size() > span.first;
      });
      if (!inside && word_at(low, at, words.size())) {
        reported.emplace_back(at, at + words.size());
        report.add(p.run.line, p.column(at), Level::warning, "blame",
                   "blaming words \"" + p.text.substr(at, words.size()) + "\" in " + p.where +
                       " (" + hint + ")");
      }
    }
  }
}
}  // namespace

void check_wording(std::string_view doc, const Context& context, Report& report) {
  auto parts = name_parts(context.names);
  for (const auto& run : markdown::prose(doc)) {
    if (names_belong_in(run)) {
      continue;
    }
    const Prose p{run, without_quotes(run.text), run.key.empty() ? "the title" : run.key};
    auto named = check_names(p, context.names, report);
    check_words(p, parts, named, context, report);
    check_blame(p, report);
  }
}

}  // namespace calloutd::lint
