// calloutctl render: a write-up as one consistently styled document for the
// affected teams. HTML from cmark-gfm with the shipped stylesheet
// (templates/writeup.css), PDF from that HTML with WeasyPrint (Debian's
// weasyprint package).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <regex>
#include <sstream>

#include "daemon/ctl/ctl.hpp"
#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/render.hpp"

extern char** environ;

namespace calloutd::ctl {

namespace fs = std::filesystem;

std::string render_usage() {
  return R"(Usage: calloutctl render PATH --format html|pdf [--output FILE] [--stylesheet FILE]

Renders a postmortem.md (or callout.md) as one styled document: HTML as
GitHub renders the markdown, with the shipped stylesheet inlined, or PDF made
from that HTML by weasyprint (apt-get install weasyprint). HTML goes to
standard output unless --output is given; PDF needs --output.
)";
}

namespace {

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Runs argv (no shell); its exit status, or -1 when it could not start.
int run_tool(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    return -1;
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// What the command line asks for.
struct RenderOptions {
  fs::path path;
  std::string format;  // html or pdf
  std::optional<std::string> output;
  std::optional<std::string> stylesheet;
};

// The options of `args`; nullopt (the problem printed) when they do not fit together.
std::optional<RenderOptions> render_options(const Args& args, Context& ctx) {
  if (args.positional.size() != 1) {
    ctx.err << "calloutctl render: expected one PATH\n" << render_usage();
    return std::nullopt;
  }
  RenderOptions o{args.positional.front(), args.get("format").value_or("html"), args.get("output"),
                  args.get("stylesheet")};
  if (o.format != "html" && o.format != "pdf") {
    ctx.err << "calloutctl render: --format \"" << o.format << "\" is not html or pdf\n";
    return std::nullopt;
  }
  if (o.format == "pdf" && !o.output) {
    ctx.err << "calloutctl render: --format=pdf needs --output FILE\n";
    return std::nullopt;
  }
  return o;
}

// The stylesheet to inline: --stylesheet's, else the shipped one; nullopt
// (printed) when the given one cannot be read.
std::optional<std::string> stylesheet(const RenderOptions& options, Context& ctx) {
  if (!options.stylesheet) {
    return std::string(k_embedded_stylesheet);
  }
  auto loaded = read_text(*options.stylesheet);
  if (!loaded) {
    ctx.err << "calloutctl render: cannot read the stylesheet \"" << *options.stylesheet << "\"\n";
  }
  return loaded;
}

// Every `from` in `text` replaced by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// cmark-gfm's HTML made to print: weasyprint draws no <input type=checkbox>,
// so a checklist box is a character (ticked and unticked differ on paper);
// a link whose text is its own URL is marked, so that the stylesheet prints
// the target after every other link only.
std::string printable(std::string html) {
  html = replace_all(std::move(html), "<input type=\"checkbox\" checked=\"\" disabled=\"\" />",
                     "<span class=\"calloutd-box calloutd-box-ticked\">\u2611</span>");
  html = replace_all(std::move(html), "<input type=\"checkbox\" disabled=\"\" />",
                     "<span class=\"calloutd-box\">\u2610</span>");
  static const std::regex k_bare_link(R"re(<a href="([^"]*)">\1</a>)re");
  return std::regex_replace(html, k_bare_link, R"(<a class="calloutd-bare-link" href="$1">$1</a>)");
}

// Where the write-up is: technology/folder/file, as the repository names it.
std::string place_of(const fs::path& path) {
  auto absolute = fs::absolute(path).lexically_normal();
  auto folder = absolute.parent_path();
  auto technology = folder.parent_path().filename().string();
  return (technology.empty() ? "" : technology + "/") + folder.filename().string() + "/" +
         absolute.filename().string();
}

// The write-up at `path` as one HTML page: its first heading as the title,
// `css` inlined, a footer naming the technology, the folder and the file.
std::string html_page(const fs::path& path, const std::string& text, const std::string& css) {
  auto headings = markdown::heading_lines(text);
  std::string title = headings.empty() ? path.filename().string() : headings.front().text;
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         escape_html(title) + "</title>\n<style>\n" + css + "</style>\n</head>\n<body>\n" +
         printable(markdown::to_html(text)) + "<p class=\"calloutd-footer\">" +
         escape_html(place_of(path)) + ", rendered by calloutctl</p>\n</body>\n</html>\n";
}

// The page to --output, else to standard output.
int write_html(const std::string& html, const std::optional<std::string>& output, Context& ctx) {
  if (!output) {
    ctx.out << html;
    return Exit::ok;
  }
  std::ofstream file(*output, std::ios::binary | std::ios::trunc);
  if (!(file << html)) {
    ctx.err << "calloutctl render: cannot write \"" << *output << "\"\n";
    return Exit::unavailable;
  }
  return Exit::ok;
}

// The page printed to `output` as PDF by weasyprint, through a temporary file.
int write_pdf(const std::string& html, const std::string& output, Context& ctx) {
  auto tmp =
      fs::temp_directory_path() / ("calloutctl-render-" + std::to_string(::getpid()) + ".html");
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file << html;
  }
  int rc = run_tool({"weasyprint", "--quiet", tmp.string(), output});
  fs::remove(tmp);
  if (rc != 0) {
    ctx.err << "calloutctl render: "
            << (rc < 0 ? "weasyprint is not installed (apt-get install weasyprint)"
                       : "weasyprint failed (exit " + std::to_string(rc) + ")")
            << "\n";
    return Exit::unavailable;
  }
  ctx.out << "wrote " << output << "\n";
  return Exit::ok;
}

}  // namespace

int render_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args =
      command_args(argv, "render", render_usage(), {"format", "output", "stylesheet"}, ctx, exit);
  if (!args) {
    return exit;
  }
  auto options = render_options(*args, ctx);
  if (!options) {
    return Exit::usage_error;
  }
  auto text = read_text(options->path.string());
  if (!text) {
    ctx.err << "calloutctl render: cannot read \"" << options->path.string() << "\"\n";
    return Exit::unavailable;
  }
  auto css = stylesheet(*options, ctx);
  if (!css) {
    return Exit::unavailable;
  }
  auto html = html_page(options->path, *text, *css);
  if (options->format == "html") {
    return write_html(html, options->output, ctx);
  }
  return write_pdf(html, *options->output, ctx);
}

}  // namespace calloutd::ctl
