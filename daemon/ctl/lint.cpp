// calloutctl lint: the write-up linter over files, folders or a whole
// callouts repository, with compiler-style, JSON or GitHub Actions output.
#include "daemon/lint/lint.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

#include "daemon/config/config.hpp"
#include "daemon/ctl/ctl.hpp"
#include "daemon/writeup/layout.hpp"
#include "daemon/writeup/postmortem.hpp"
#include "daemon/writeup/render.hpp"

namespace calloutd::ctl {

namespace fs = std::filesystem;

std::string lint_usage() {
  return R"(Usage: calloutctl lint [PATH...] [--repo DIR] [--config FILE] [--templates DIR]
                      [--format text|json|github]

Checks callout.md and postmortem.md files against the template in use and the
write-up rules: every key present and in order (n/a, never empty), no names
or pronouns outside Team roles and the Owner column (names: the rota's, the
Team roles holders', and about 1,500 given names built in, except the words
listed in the repository's lint-allow.txt), blaming words (warning, with a
blameless way to say it),
Action Items rows with Type, Owner, Ticket, Due and Status, timelines whose
entries parse as UTC times (newest first in the callout, oldest first in the
postmortem), and the <technology>/<issue>-<YYYY-MM-DD>/ layout.

  PATH             files or folders (default: the whole repository)
  --repo DIR       the callouts repository (default: the git repository around
                   the first PATH or the current directory)
  --config FILE    calloutd.yml: its rota's names count as people's names, its
                   templates_dir gives the templates
  --templates DIR  callout.md and postmortem.md templates (default: the config's,
                   else the shipped ones)
  --format FORMAT  text (FILE:LINE:COL: error: ...), json, or github (Actions
                   annotations)

Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad command
line, 3 a path, the config or the templates cannot be read.
)";
}

namespace {

// The nearest folder holding .git, from `start` up; `start` when none does.
fs::path repository_around(const fs::path& start) {
  auto dir = fs::absolute(start);
  if (!fs::is_directory(dir)) {
    dir = dir.parent_path();
  }
  for (auto d = dir; !d.empty(); d = d.parent_path()) {
    if (fs::exists(d / ".git")) {
      return d;
    }
    if (d == d.root_path()) {
      break;
    }
  }
  return dir;
}

bool is_write_up(const fs::path& p) {
  return p.filename() == layout::k_callout_file || p.filename() == layout::k_postmortem_file;
}

// Write-ups under `root` (hidden folders such as .git and .calloutd skipped).
void collect(const fs::path& root, std::vector<fs::path>& out) {
  if (fs::is_regular_file(root)) {
    out.push_back(root);
    return;
  }
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->path().filename().string().rfind('.', 0) == 0) {
      if (it->is_directory()) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (it->is_regular_file() && is_write_up(it->path())) {
      out.push_back(it->path());
    }
  }
}

std::string escape_github(std::string s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else if (property && c == ':') {
      out += "%3A";
    } else if (property && c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

// What the command line asks for.
struct LintOptions {
  std::string format;              // text, json or github
  fs::path repo;                   // absolute, without a trailing separator
  std::vector<std::string> paths;  // as given; empty for the whole repository
  std::optional<std::string> config_file;
  std::string templates_dir;  // "" for the config's, else the shipped ones
};

// The options of `args`; nullopt (the problem printed) on a bad --format.
std::optional<LintOptions> lint_options(const Args& args, Context& ctx) {
  LintOptions o;
  o.format = args.get("format").value_or("text");
  if (o.format != "text" && o.format != "json" && o.format != "github") {
    ctx.err << "calloutctl lint: --format \"" << o.format << "\" is not text, json or github\n";
    return std::nullopt;
  }
  o.paths = args.positional;
  o.repo = args.get("repo").value_or(
      repository_around(o.paths.empty() ? fs::path(".") : fs::path(o.paths[0])));
  o.repo = fs::absolute(o.repo).lexically_normal();
  if (!o.repo.empty() && o.repo.filename().empty()) {
    o.repo = o.repo.parent_path();
  }
  o.config_file = args.get("config");
  o.templates_dir = args.get("templates").value_or("");
  return o;
}

// Adds the rota's names from --config, and takes its templates_dir when no
// --templates was given; false (the config's errors printed) when it is invalid.
bool read_lint_config(LintOptions& options, lint::Context& context, Context& ctx) {
  if (!options.config_file) {
    return true;
  }
  auto loaded = load_config(*options.config_file);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) {
      ctx.err << e << "\n";
    }
    return false;
  }
  for (const auto& rota : loaded.config.rotas) {
    context.names.insert(rota.primary.begin(), rota.primary.end());
    context.names.insert(rota.secondary.begin(), rota.secondary.end());
  }
  if (options.templates_dir.empty()) {
    options.templates_dir = loaded.config.templates_dir;
  }
  return true;
}

// The template texts the keys come from; false (printed) when they cannot be read.
bool read_lint_templates(const std::string& templates_dir, lint::Context& context, Context& ctx) {
  Templates templates = Templates::embedded();
  if (!templates_dir.empty()) {
    auto loaded = Templates::load(templates_dir);
    if (!loaded) {
      ctx.err << "calloutctl lint: " << loaded.error() << "\n";
      return false;
    }
    templates = std::move(*loaded);
  }
  context.callout_template = templates.callout_source();
  context.postmortem_template = templates.postmortem_source();
  return true;
}

// The repository's lint-allow.txt: words the list of given names knows that
// are not people here, one a line; `#` starts a comment.
void read_allowed_words(const fs::path& repo, lint::Context& context) {
  auto text = read_text((repo / "lint-allow.txt").string());
  if (!text) {
    return;
  }
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(0, line.find('#'));
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty()) {
      context.allowed_words.insert(line);
    }
  }
}

// Every Team roles holder in `write_ups` counts as a person's name.
void add_role_holders(const std::vector<fs::path>& write_ups, lint::Context& context) {
  for (const auto& p : write_ups) {
    if (p.filename() != layout::k_callout_file) {
      continue;
    }
    if (auto text = read_text(p.string())) {
      for (const auto& [role, holder] : read_callout(*text, p.string()).roles) {
        if (!holder.empty()) {
          context.names.insert(holder);
        }
      }
    }
  }
}

// The files to check, sorted: those under the named paths, else `everything`;
// nullopt (printed) when a named path does not exist.
std::optional<std::vector<fs::path>> files_to_lint(const std::vector<std::string>& paths,
                                                   const std::vector<fs::path>& everything,
                                                   Context& ctx) {
  std::vector<fs::path> files;
  if (paths.empty()) {
    files = everything;
  } else {
    for (const auto& p : paths) {
      if (!fs::exists(p)) {
        ctx.err << "calloutctl lint: no such file or folder \"" << p << "\"\n";
        return std::nullopt;
      }
      collect(p, files);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// `p` relative to the repository, as diagnostics name it; as given when outside.
std::string repository_path(const fs::path& p, const fs::path& repo) {
  auto rel = fs::absolute(p).lexically_normal().lexically_relative(repo).generic_string();
  if (rel.empty() || rel.rfind("..", 0) == 0) {
    rel = p.generic_string();
  }
  return rel;
}

// The diagnostics of one write-up: its place in the layout, then its text.
void lint_write_up(const fs::path& p, const std::string& rel, const std::string& text,
                   const lint::Context& context, std::vector<lint::Diagnostic>& all) {
  auto kind = p.filename() == layout::k_callout_file ? lint::Kind::callout : lint::Kind::postmortem;
  for (auto& d : lint::check_layout(rel)) {
    all.push_back(std::move(d));
  }
  if (kind == lint::Kind::callout && !fs::exists(p.parent_path() / layout::k_postmortem_file)) {
    all.push_back({rel, 0, 0, lint::Level::error, "layout",
                   "no postmortem.md beside the callout (the template is never removed)"});
  }
  for (auto& d : lint::check_file(rel, text, kind, context)) {
    all.push_back(std::move(d));
  }
}

// The diagnostics of `files`; nullopt (printed) when one cannot be read.
std::optional<std::vector<lint::Diagnostic>> lint_files(const std::vector<fs::path>& files,
                                                        const fs::path& repo,
                                                        const lint::Context& context,
                                                        Context& ctx) {
  std::vector<lint::Diagnostic> all;
  for (const auto& p : files) {
    auto text = read_text(p.string());
    if (!text) {
      ctx.err << "calloutctl lint: cannot read \"" << p.string() << "\"\n";
      return std::nullopt;
    }
    if (!is_write_up(p)) {
      continue;  // a file named on the command line that is not a write-up
    }
    lint_write_up(p, repository_path(p, repo), *text, context, all);
  }
  return all;
}

const char* severity(const lint::Diagnostic& d) {
  return d.level == lint::Level::error ? "error" : "warning";
}

struct Tally {
  int errors = 0;
  int warnings = 0;
  std::size_t files = 0;
};

Tally tally(const std::vector<lint::Diagnostic>& all, std::size_t files) {
  Tally t;
  for (const auto& d : all) {
    (d.level == lint::Level::error ? t.errors : t.warnings) += 1;
  }
  t.files = files;
  return t;
}

void print_json(const std::vector<lint::Diagnostic>& all, const Tally& t, std::ostream& out) {
  nlohmann::json doc{{"errors", t.errors}, {"warnings", t.warnings}, {"files", t.files}};
  doc["diagnostics"] = nlohmann::json::array();
  for (const auto& d : all) {
    doc["diagnostics"].push_back({{"file", d.file},
                                  {"line", d.line},
                                  {"column", d.column},
                                  {"severity", severity(d)},
                                  {"rule", d.rule},
                                  {"message", d.message}});
  }
  out << doc.dump(2) << "\n";
}

// One GitHub Actions annotation.
void print_github(const lint::Diagnostic& d, std::ostream& out) {
  out << "::" << severity(d) << " file=" << escape_github(d.file, true);
  if (d.line > 0) {
    out << ",line=" << d.line;
  }
  if (d.column > 0) {
    out << ",col=" << d.column;
  }
  out << ",title=" << escape_github("calloutctl lint (" + d.rule + ")", true)
      << "::" << escape_github(d.message, false) << "\n";
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Text and github formats: one line per diagnostic, then the counts.
void print_lines(const std::vector<lint::Diagnostic>& all, const Tally& t,
                 const std::string& format, std::ostream& out) {
  for (const auto& d : all) {
    if (format == "github") {
      print_github(d, out);
    } else {
      out << d.to_string() << "\n";
    }
  }
  out << "calloutctl lint: " << plural(static_cast<std::size_t>(t.errors), "error") << ", "
      << plural(static_cast<std::size_t>(t.warnings), "warning") << " in "
      << plural(t.files, "file") << "\n";
}

}  // namespace

int lint_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "lint", lint_usage(), {"repo", "config", "templates", "format"},
                           ctx, exit);
  if (!args) {
    return exit;
  }
  auto options = lint_options(*args, ctx);
  if (!options) {
    return Exit::usage_error;
  }
  lint::Context context;
  if (!read_lint_config(*options, context, ctx) ||
      !read_lint_templates(options->templates_dir, context, ctx)) {
    return Exit::unavailable;
  }
  // People's names: the rota's, and every Team roles holder in the repository.
  std::vector<fs::path> everything;
  if (fs::is_directory(options->repo)) {
    collect(options->repo, everything);
  }
  add_role_holders(everything, context);
  read_allowed_words(options->repo, context);
  auto files = files_to_lint(options->paths, everything, ctx);
  if (!files) {
    return Exit::unavailable;
  }
  auto all = lint_files(*files, options->repo, context, ctx);
  if (!all) {
    return Exit::unavailable;
  }
  auto counts = tally(*all, files->size());
  if (options->format == "json") {
    print_json(*all, counts, ctx.out);
  } else {
    print_lines(*all, counts, options->format, ctx.out);
  }
  return counts.errors > 0 ? Exit::refused : Exit::ok;
}

}  // namespace calloutd::ctl
