// Command-line flags, in the Prometheus family's style:
//   calloutd --config.file=PATH --web.listen-address=HOST:PORT --repo.path=DIR --log.level=info
//            --web.config.file=PATH --web.enable-lifecycle
//   calloutd --check-config --config.file=PATH
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/base/result.hpp"

namespace calloutd {

struct Flags {
  std::optional<std::string> config_file;
  std::optional<std::string> listen_address;
  std::optional<std::string> repo_path;
  std::optional<std::string> web_config_file;  // Prometheus' web-config format: TLS
  bool enable_lifecycle = false;               // POST /-/reload
  std::string log_level = "info";
  bool check_config = false;
  bool help = false;
  bool version = false;
};

// Parses argv[1..]. `--flag=value` and `--flag value` both work. The error
// names the flag.
Result<Flags> parse_flags(const std::vector<std::string>& args);

std::string usage();

}  // namespace calloutd
