// calloutctl render: a write-up as one consistently styled document for the
// affected teams. HTML from cmark-gfm with the shipped stylesheet
// (templates/writeup.css), PDF from that HTML with WeasyPrint (Debian's
// weasyprint package).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <ostream>
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

}  // namespace

int render_command(const std::vector<std::string>& argv, Context& ctx) {
  int exit = Exit::ok;
  auto args =
      command_args(argv, "render", render_usage(), {"format", "output", "stylesheet"}, ctx, exit);
  if (!args) {
    return exit;
  }
  if (args->positional.size() != 1) {
    ctx.err << "calloutctl render: expected one PATH\n" << render_usage();
    return Exit::usage_error;
  }
  auto format = args->get("format").value_or("html");
  if (format != "html" && format != "pdf") {
    ctx.err << "calloutctl render: --format \"" << format << "\" is not html or pdf\n";
    return Exit::usage_error;
  }
  if (format == "pdf" && !args->get("output")) {
    ctx.err << "calloutctl render: --format=pdf needs --output FILE\n";
    return Exit::usage_error;
  }
  const fs::path path = args->positional.front();
  auto text = read_text(path.string());
  if (!text) {
    ctx.err << "calloutctl render: cannot read \"" << path.string() << "\"\n";
    return Exit::unavailable;
  }
  std::string css = k_embedded_stylesheet;
  if (auto sheet = args->get("stylesheet")) {
    auto loaded = read_text(*sheet);
    if (!loaded) {
      ctx.err << "calloutctl render: cannot read the stylesheet \"" << *sheet << "\"\n";
      return Exit::unavailable;
    }
    css = *loaded;
  }
  auto headings = markdown::heading_lines(*text);
  std::string title = headings.empty() ? path.filename().string() : headings.front().text;
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      escape_html(title) + "</title>\n<style>\n" + css + "</style>\n</head>\n<body>\n" +
      markdown::to_html(*text) + "<p class=\"calloutd-footer\">" +
      escape_html(path.parent_path().filename().string() + "/" + path.filename().string()) +
      ", rendered by calloutctl</p>\n</body>\n</html>\n";
  if (format == "html") {
    if (auto out = args->get("output")) {
      std::ofstream file(*out, std::ios::binary | std::ios::trunc);
      if (!(file << html)) {
        ctx.err << "calloutctl render: cannot write \"" << *out << "\"\n";
        return Exit::unavailable;
      }
    } else {
      ctx.out << html;
    }
    return Exit::ok;
  }
  auto tmp =
      fs::temp_directory_path() / ("calloutctl-render-" + std::to_string(::getpid()) + ".html");
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file << html;
  }
  int rc = run_tool({"weasyprint", "--quiet", tmp.string(), *args->get("output")});
  fs::remove(tmp);
  if (rc != 0) {
    ctx.err << "calloutctl render: "
            << (rc < 0 ? "weasyprint is not installed (apt-get install weasyprint)"
                       : "weasyprint failed (exit " + std::to_string(rc) + ")")
            << "\n";
    return Exit::unavailable;
  }
  ctx.out << "wrote " << *args->get("output") << "\n";
  return Exit::ok;
}

}  // namespace calloutd::ctl
