// calloutctl lint: the write-up linter over files, folders or a whole
// callouts repository, with compiler-style, JSON or GitHub Actions output.
#include "daemon/writeup/lint.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "daemon/config/config.hpp"
#include "daemon/ctl/ctl.hpp"
#include "daemon/writeup/postmortem.hpp"
#include "daemon/writeup/render.hpp"

namespace calloutd::ctl {

namespace fs = std::filesystem;

std::string lint_usage() {
  return R"(Usage: calloutctl lint [PATH...] [--repo DIR] [--config FILE] [--templates DIR]
                      [--format text|json|github]

Checks callout.md and postmortem.md files against the template in use and the
write-up rules: every key present and in order (n/a, never empty), no names
or pronouns outside Team roles and the Owner column, blaming words (warning),
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
  return p.filename() == "callout.md" || p.filename() == "postmortem.md";
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

}  // namespace

int lint_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args = command_args(argv, "lint", lint_usage(), {"repo", "config", "templates", "format"},
                           ctx, exit);
  if (!args) {
    return exit;
  }
  auto format = args->get("format").value_or("text");
  if (format != "text" && format != "json" && format != "github") {
    ctx.err << "calloutctl lint: --format \"" << format << "\" is not text, json or github\n";
    return Exit::usage_error;
  }
  fs::path repo = args->get("repo").value_or(
      repository_around(args->positional.empty() ? fs::path(".") : fs::path(args->positional[0])));
  repo = fs::absolute(repo).lexically_normal();
  if (!repo.empty() && repo.filename().empty()) {
    repo = repo.parent_path();
  }

  lint::Context context;
  std::string templates_dir = args->get("templates").value_or("");
  if (auto config_file = args->get("config")) {
    auto loaded = load_config(*config_file);
    if (!loaded.errors.empty()) {
      for (const auto& e : loaded.errors) {
        ctx.err << e << "\n";
      }
      return Exit::unavailable;
    }
    for (const auto& rota : loaded.config.rotas) {
      context.names.insert(rota.primary.begin(), rota.primary.end());
      context.names.insert(rota.secondary.begin(), rota.secondary.end());
    }
    if (templates_dir.empty()) {
      templates_dir = loaded.config.templates_dir;
    }
  }
  Templates templates = Templates::embedded();
  if (!templates_dir.empty()) {
    auto loaded = Templates::load(templates_dir);
    if (!loaded) {
      ctx.err << "calloutctl lint: " << loaded.error() << "\n";
      return Exit::unavailable;
    }
    templates = std::move(*loaded);
  }
  context.callout_template = templates.callout_source();
  context.postmortem_template = templates.postmortem_source();

  // People's names: the rota's, and every Team roles holder in the repository.
  std::vector<fs::path> everything;
  if (fs::is_directory(repo)) {
    collect(repo, everything);
  }
  for (const auto& p : everything) {
    if (p.filename() == "callout.md") {
      if (auto text = read_text(p.string())) {
        for (const auto& [role, holder] : read_callout(*text, p.string()).roles) {
          if (!holder.empty()) {
            context.names.insert(holder);
          }
        }
      }
    }
  }

  std::vector<fs::path> files;
  if (args->positional.empty()) {
    files = everything;
  } else {
    for (const auto& p : args->positional) {
      if (!fs::exists(p)) {
        ctx.err << "calloutctl lint: no such file or folder \"" << p << "\"\n";
        return Exit::unavailable;
      }
      collect(p, files);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<lint::Diagnostic> all;
  for (const auto& p : files) {
    auto text = read_text(p.string());
    if (!text) {
      ctx.err << "calloutctl lint: cannot read \"" << p.string() << "\"\n";
      return Exit::unavailable;
    }
    auto rel = fs::absolute(p).lexically_normal().lexically_relative(repo).generic_string();
    if (rel.empty() || rel.rfind("..", 0) == 0) {
      rel = p.generic_string();
    }
    auto kind = p.filename() == "callout.md" ? lint::Kind::callout : lint::Kind::postmortem;
    if (!is_write_up(p)) {
      continue;  // a file named on the command line that is not a write-up
    }
    for (auto& d : lint::check_layout(rel)) {
      all.push_back(std::move(d));
    }
    if (kind == lint::Kind::callout && !fs::exists(p.parent_path() / "postmortem.md")) {
      all.push_back({rel, 0, 0, lint::Level::error, "layout",
                     "no postmortem.md beside the callout (the template is never removed)"});
    }
    for (auto& d : lint::check_file(rel, *text, kind, context)) {
      all.push_back(std::move(d));
    }
  }

  int errors = 0, warnings = 0;
  for (const auto& d : all) {
    (d.level == lint::Level::error ? errors : warnings) += 1;
  }
  auto plural = [](int n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  std::string summary = plural(errors, "error") + ", " + plural(warnings, "warning") + " in " +
                        plural(static_cast<int>(files.size()), "file");
  if (format == "json") {
    nlohmann::json out{{"errors", errors}, {"warnings", warnings}, {"files", files.size()}};
    out["diagnostics"] = nlohmann::json::array();
    for (const auto& d : all) {
      out["diagnostics"].push_back(
          {{"file", d.file},
           {"line", d.line},
           {"column", d.column},
           {"severity", d.level == lint::Level::error ? "error" : "warning"},
           {"rule", d.rule},
           {"message", d.message}});
    }
    ctx.out << out.dump(2) << "\n";
  } else {
    for (const auto& d : all) {
      if (format == "github") {
        ctx.out << "::" << (d.level == lint::Level::error ? "error" : "warning")
                << " file=" << escape_github(d.file, true);
        if (d.line > 0) {
          ctx.out << ",line=" << d.line;
        }
        if (d.column > 0) {
          ctx.out << ",col=" << d.column;
        }
        ctx.out << ",title=" << escape_github("calloutctl lint (" + d.rule + ")", true)
                << "::" << escape_github(d.message, false) << "\n";
      } else {
        ctx.out << d.to_string() << "\n";
      }
    }
    ctx.out << "calloutctl lint: " << summary << "\n";
  }
  return errors > 0 ? Exit::refused : Exit::ok;
}

}  // namespace calloutd::ctl
