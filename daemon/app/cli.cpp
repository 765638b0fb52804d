#include "daemon/app/cli.hpp"

#include "daemon/base/log.hpp"

namespace calloutd {
namespace {

// The flag `name` that takes no value, or nullptr.
bool* switch_flag(Flags& f, const std::string& name) {
  if (name == "help") {
    return &f.help;
  }
  if (name == "version") {
    return &f.version;
  }
  if (name == "check-config") {
    return &f.check_config;
  }
  if (name == "web.enable-lifecycle") {
    return &f.enable_lifecycle;
  }
  return nullptr;
}

}  // namespace

Result<Flags> parse_flags(const std::vector<std::string>& args) {
  Flags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      return Error{"unexpected argument \"" + arg + "\" (see --help)"};
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto take = [&]() -> Result<std::string> {
      if (value) {
        return *value;
      }
      if (i + 1 >= args.size()) {
        return Error{"flag --" + name + " needs a value"};
      }
      return args[++i];
    };
    if (bool* on = switch_flag(f, name)) {
      if (value) {
        return Error{"flag --" + name + " takes no value"};
      }
      *on = true;
      continue;
    }
    if (name != "config.file" && name != "web.listen-address" && name != "repo.path" &&
        name != "log.level" && name != "web.config.file") {
      return Error{"unknown flag --" + name + " (see --help)"};
    }
    auto v = take();
    if (!v) {
      return Error{v.error()};
    }
    if (name == "config.file") {
      f.config_file = *v;
    } else if (name == "web.listen-address") {
      f.listen_address = *v;
    } else if (name == "repo.path") {
      f.repo_path = *v;
    } else if (name == "web.config.file") {
      f.web_config_file = *v;
    } else if (name == "log.level") {
      if (!log::parse_level(*v)) {
        return Error{"flag --log.level: \"" + *v + "\" is not one of debug, info, warn, error"};
      }
      f.log_level = *v;
    }
  }
  if (f.check_config && !f.config_file) {
    return Error{"--check-config needs --config.file=PATH"};
  }
  return f;
}

std::string usage() {
  return R"(usage: calloutd [flags]

Turns Alertmanager webhooks into callouts and postmortems committed to a git repository.

  --config.file=PATH            YAML configuration (default: the embedded default)
  --web.listen-address=H:P      address to serve HTTP on (default 127.0.0.1:9095)
  --repo.path=DIR               callouts repository, created if missing (default ./callouts)
  --web.config.file=PATH        TLS for the listener, in Prometheus' web-config format
  --web.enable-lifecycle        serve POST /-/reload (SIGHUP reloads either way)
  --log.level=LEVEL             debug, info, warn or error (default info)
  --check-config                check --config.file, print every error, exit 0 or 1
  --version                     print the version
  --help                        print this help
)";
}

}  // namespace calloutd
