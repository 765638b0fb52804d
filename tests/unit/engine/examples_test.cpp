// The example write-ups in docs/examples/ are what the engine writes for the
// samples' alert group, from its opening to its resolution: the docs show the
// real text, and this test fails when the text changes without them. After a
// deliberate change, CALLOUTD_UPDATE_EXPECTED=1 writes them anew; review the
// diff. Both pass the blameless lint.
#include <gtest/gtest.h>

#include <cstdlib>

#include "daemon/engine/engine.hpp"
#include "daemon/lint/lint.hpp"
#include "receivers/alertmanager.hpp"
#include "tests/support/fake_repository.hpp"
#include "tests/support/test_support.hpp"

namespace calloutd {
namespace {

const std::string k_examples = std::string(CALLOUTD_SOURCE_DIR) + "/docs/examples/";
const std::string k_folder = "api/high-request-latency-2026-11-22";

Event sample_event(std::uint64_t seq, const char* name, const char* received) {
  auto g = receivers::parse_alertmanager(testing::sample(name));
  EXPECT_TRUE(g) << g.error();
  return Event{seq, testing::at(received), *g};
}

TEST(ExamplesTest, TheDocsShowWhatTheEngineWritesFromOpeningToResolution) {
  auto loaded = parse_config(R"(
routes:
  - matchers: ['severity="warning"', 'service="api"']
    severity: HPI
    technology: api
    dashboard_url_template: "https://grafana.example.com/d/api?var-instance={{instance}}&var-cluster={{cluster}}"
)",
                             "calloutd.yml", "/");
  ASSERT_TRUE(loaded.errors.empty());
  testing::FakeRepository repo;
  Templates templates = Templates::embedded();
  Engine engine(loaded.config, repo, templates);
  engine.apply(sample_event(1, "am-0.25-firing-two-alerts.json", "2026-11-22T03:45:55Z"));
  engine.apply(
      sample_event(2, "am-0.25-firing-group-one-alert-resolved.json", "2026-11-22T03:47:58Z"));
  engine.apply(sample_event(3, "am-0.25-resolved.json", "2026-11-22T03:48:04Z"));

  lint::Context context;
  context.callout_template = templates.callout_source();
  context.postmortem_template = templates.postmortem_source();
  for (const char* file : {"callout.md", "postmortem.md"}) {
    const auto path = k_folder + "/" + file;
    const auto text = repo.file(path);
    if (std::getenv("CALLOUTD_UPDATE_EXPECTED") != nullptr) {
      testing::write_file(k_examples + path, text);
    }
    EXPECT_EQ(text, testing::read_file(k_examples + path)) << file;
    auto kind = std::string(file) == "callout.md" ? lint::Kind::callout : lint::Kind::postmortem;
    auto findings = lint::check_file(path, text, kind, context);
    EXPECT_TRUE(findings.empty()) << findings.front().to_string();
  }
}

}  // namespace
}  // namespace calloutd
