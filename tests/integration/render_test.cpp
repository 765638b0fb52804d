// calloutctl render: a real postmortem as HTML and as PDF (weasyprint), the
// PDF's text read back with pdftotext.
#include <gtest/gtest.h>

#include <filesystem>

#include "daemon/writeup/markdown.hpp"
#include "daemon/writeup/render.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

const std::string k_postmortem =
    std::string(CALLOUTD_SOURCE_DIR) + "/tests/integration/render/postmortem.md";

std::string render(const std::string& args, int* status) {
  return testing::run(testing::calloutctl_binary() + " render " + args + " 2>&1", status);
}

TEST(RenderTest, HtmlHasTheTablesAndTheStylesheet) {
  int status = -1;
  auto html = render("'" + k_postmortem + "' --format=html", &status);
  ASSERT_EQ(status, 0) << html;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(
      html.find("<title>High request latency on api-1:8080 - POSTMORTEM - 2026-11-22</title>"),
      std::string::npos);
  EXPECT_NE(html.find("border-collapse: collapse"), std::string::npos);  // templates/writeup.css
  EXPECT_NE(html.find("<th>Action Item</th>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>Size the pool from the instance type</td>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"calloutd-box\">\u2610</span> Impact assessment complete"),
            std::string::npos)
      << html;
  EXPECT_EQ(html.find("<input type=\"checkbox\""), std::string::npos);  // weasyprint draws none
  // Raw HTML in the markdown is not passed through.
  EXPECT_EQ(html.find("<!-- Written by calloutd"), std::string::npos);
}

TEST(RenderTest, PdfHoldsEveryKeyAndTheActionItems) {
  testing::TempDir dir;
  auto pdf = (dir.path() / "postmortem.pdf").string();
  int status = -1;
  auto out = render("'" + k_postmortem + "' --format pdf --output '" + pdf + "'", &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_EQ(out, "wrote " + pdf + "\n");
  auto text = testing::run("pdftotext -layout '" + pdf + "' - 2>&1", &status);
  ASSERT_EQ(status, 0) << text;
  for (const auto& key : markdown::heading_lines(Templates::embedded().postmortem_source())) {
    if (key.level >= 2) {
      EXPECT_NE(text.find(key.text), std::string::npos) << "key " << key.text << " in\n" << text;
    }
  }
  for (const char* item : {"Size the pool from the instance type", "OPS-4211", "IN PROGRESS",
                           "Alert on pool saturation above 80%", "OPS-4212", "2026-12-01"}) {
    EXPECT_NE(text.find(item), std::string::npos) << item << " in\n" << text;
  }
}

// On paper: a ticked box differs from an unticked one, a link shows its
// target (unless its text is the target), the footer names the technology,
// the folder and the file.
TEST(RenderTest, PdfShowsTickedBoxesLinkTargetsAndWhereTheFileIs) {
  testing::TempDir dir;
  auto text = testing::read_file(k_postmortem);
  text.replace(text.find("- [ ] Incident data collected"), 5, "- [x]");
  text += "\nStatus page: <https://status.example.com/>\n";
  const auto folder = dir.path() / "api" / "high-request-latency-2026-11-22";
  testing::write_file(folder / "postmortem.md", text);
  auto pdf = (dir.path() / "postmortem.pdf").string();
  int status = -1;
  auto out = render(
      "'" + (folder / "postmortem.md").string() + "' --format pdf --output '" + pdf + "'", &status);
  ASSERT_EQ(status, 0) << out;
  auto printed = testing::run("pdftotext -layout '" + pdf + "' - 2>&1", &status);
  ASSERT_EQ(status, 0) << printed;
  EXPECT_NE(printed.find("\u2611 Incident data collected for posterity"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("\u2610 Impact assessment complete"), std::string::npos) << printed;
  EXPECT_NE(printed.find("Runbook (https://runbooks.example.com/HighRequestLatency)"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("Status page: https://status.example.com/\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("api/high-request-latency-2026-11-22/postmortem.md, rendered by "
                         "calloutctl"),
            std::string::npos)
      << printed;
}

TEST(RenderTest, BadRequestsSayWhy) {
  int status = -1;
  auto out = render("'" + k_postmortem + "' --format=pdf", &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("--format=pdf needs --output FILE"), std::string::npos);
  out = render("/nonexistent/postmortem.md --format=html", &status);
  EXPECT_EQ(status, 3);
  EXPECT_NE(out.find("cannot read \"/nonexistent/postmortem.md\""), std::string::npos);
  out = render("'" + k_postmortem + "' --format=docx", &status);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(out, "calloutctl render: --format \"docx\" is not html or pdf\n");
  out = render("--format=html", &status);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(out.rfind("calloutctl render: expected one PATH\nUsage: calloutctl render", 0), 0u)
      << out;
  out = render("'" + k_postmortem + "' --stylesheet /nonexistent/style.css", &status);
  EXPECT_EQ(status, 3);
  EXPECT_EQ(out, "calloutctl render: cannot read the stylesheet \"/nonexistent/style.css\"\n");
  out = render("'" + k_postmortem + "' --output /nonexistent/out.html", &status);
  EXPECT_EQ(status, 3);
  EXPECT_EQ(out, "calloutctl render: cannot write \"/nonexistent/out.html\"\n");
  // weasyprint not in PATH.
  out = testing::run("PATH=/nonexistent " + testing::calloutctl_binary() + " render '" +
                         k_postmortem + "' --format pdf --output /tmp/never.pdf 2>&1",
                     &status);
  EXPECT_EQ(status, 3);
  EXPECT_EQ(out, "calloutctl render: weasyprint is not installed (apt-get install weasyprint)\n");
}

// --output writes what standard output would show; --stylesheet replaces the
// shipped one; the title falls back to the file's name without a heading.
TEST(RenderTest, OutputFileAndStylesheet) {
  testing::TempDir dir;
  int status = -1;
  auto html = render("'" + k_postmortem + "'", &status);
  ASSERT_EQ(status, 0);
  auto file = (dir.path() / "out.html").string();
  auto out = render("'" + k_postmortem + "' --output '" + file + "'", &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "");
  EXPECT_EQ(testing::read_file(file), html);

  testing::write_file(dir.path() / "style.css", "body { color: teal; }\n");
  testing::write_file(dir.path() / "notes" / "callout.md", "Plain & simple text.\n");
  out = render("'" + (dir.path() / "notes" / "callout.md").string() + "' --stylesheet '" +
                   (dir.path() / "style.css").string() + "'",
               &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>callout.md</title>\n<style>\nbody { color: teal; }\n</style>\n</head>\n"
            "<body>\n<p>Plain &amp; simple text.</p>\n<p class=\"calloutd-footer\">" +
                dir.path().filename().string() +
                "/notes/callout.md, rendered by calloutctl</p>\n</body>\n</html>\n");
}

}  // namespace
}  // namespace calloutd
