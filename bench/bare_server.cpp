// The ceiling for the re-fire benchmark: a server built from the same
// cpp-httplib, configured like calloutd's (TCP_NODELAY, default thread pool),
// that answers every webhook 200 without doing anything.
#include <httplib.h>

#include <cstdio>

int main() {
  httplib::Server s;
  s.set_tcp_nodelay(true);
  s.Post("/api/v1/alertmanager", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"accepted"})", "application/json");
  });
  int port = s.bind_to_any_port("127.0.0.1");
  std::printf("%d\n", port);
  std::fflush(stdout);
  s.listen_after_bind();
  return 0;
}
