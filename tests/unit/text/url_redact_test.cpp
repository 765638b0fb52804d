#include "daemon/text/url_redact.hpp"

#include <gtest/gtest.h>

namespace calloutd {
namespace {

TEST(UrlRedactTest, UserinfoIsRemoved) {
  EXPECT_EQ(redact_url_credentials("https://admin:hunter2@grafana.example:3000/d/x"),
            "https://grafana.example:3000/d/x");
  EXPECT_EQ(redact_url_credentials("http://token@host/"), "http://host/");
  // An unencoded '@' in the password: the host is after the last one.
  EXPECT_EQ(redact_url_credentials("http://u:p@ss@host/p@th"), "http://host/p@th");
  // An '@' after the authority is not userinfo.
  EXPECT_EQ(redact_url_credentials("https://host/mail?to=a@b.example"),
            "https://host/mail?to=a@b.example");
}

TEST(UrlRedactTest, SensitiveParametersAreRedactedWhateverTheirCase) {
  EXPECT_EQ(redact_url_credentials("http://p:9090/graph?g0.expr=up&auth_token=abc&g0.tab=1"),
            "http://p:9090/graph?g0.expr=up&auth_token=REDACTED&g0.tab=1");
  EXPECT_EQ(redact_url_credentials("https://h/?Token=1;API_KEY=2&apikey=3&key=4&password=5&"
                                   "passwd=6&secret=7&sig=8&Signature=9&access_token=10"),
            "https://h/?Token=REDACTED;API_KEY=REDACTED&apikey=REDACTED&key=REDACTED&"
            "password=REDACTED&passwd=REDACTED&secret=REDACTED&sig=REDACTED&"
            "Signature=REDACTED&access_token=REDACTED");
  EXPECT_EQ(redact_url_credentials("https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&"
                                   "X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=f00d&"
                                   "X-Amz-Security-Token=t"),
            "https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&"
            "X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED");
  // Names that only contain a sensitive word are not sensitive.
  EXPECT_EQ(redact_url_credentials("https://h/?keyword=a&monkey=b&tokens=c&var-key=d"),
            "https://h/?keyword=a&monkey=b&tokens=c&var-key=d");
}

TEST(UrlRedactTest, FragmentsAreRedactedToo) {
  EXPECT_EQ(redact_url_credentials("https://h/cb#access_token=abc&state=1"),
            "https://h/cb#access_token=REDACTED&state=1");
  EXPECT_EQ(redact_url_credentials("https://h/#/view?token=abc"),
            "https://h/#/view?token=REDACTED");
}

TEST(UrlRedactTest, EverythingElseIsKeptByteForByte) {
  for (const char* kept :
       {"https://grafana.example/d/api?var-job=api&from=now-1h#panel=2",
        "http://prometheus.example.internal:9090/graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1",
        "https://h/?key", "https://h/?&&=x&", "https://h", "", "not a url", "mailto:a@b",
        "/relative?token=x"}) {
    EXPECT_EQ(redact_url_credentials(kept), kept);
  }
  EXPECT_EQ(redact_url_credentials("https://h/?token="), "https://h/?token=REDACTED");
}

}  // namespace
}  // namespace calloutd
