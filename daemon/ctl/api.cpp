#include <httplib.h>

#include <fstream>
#include <ostream>
#include <sstream>

#include "daemon/ctl/ctl.hpp"

namespace calloutd::ctl {

using nlohmann::json;

Result<Args> Args::parse(const std::vector<std::string>& argv,
                         const std::set<std::string>& with_value,
                         const std::set<std::string>& flags) {
  Args args;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      args.positional.push_back(a);
      continue;
    }
    auto eq = a.find('=');
    std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (flags.contains(name)) {
      if (eq != std::string::npos) {
        return Error{"--" + name + " takes no value"};
      }
      args.options[name].push_back("true");
    } else if (with_value.contains(name)) {
      if (eq != std::string::npos) {
        args.options[name].push_back(a.substr(eq + 1));
      } else if (i + 1 < argv.size()) {
        args.options[name].push_back(argv[++i]);
      } else {
        return Error{"--" + name + " needs a value"};
      }
    } else {
      return Error{"unknown option --" + name};
    }
  }
  return args;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second.back();
}

std::optional<Args> command_args(const std::vector<std::string>& argv, const std::string& command,
                                 const std::string& usage, const std::set<std::string>& with_value,
                                 Context& ctx, int& exit, std::set<std::string> flags) {
  flags.insert("help");
  auto args = Args::parse(argv, with_value, flags);
  if (!args) {
    ctx.err << "calloutctl " << command << ": " << args.error() << "\n" << usage;
    exit = Exit::usage_error;
    return std::nullopt;
  }
  if (args->has("help")) {
    ctx.out << usage;
    exit = Exit::ok;
    return std::nullopt;
  }
  return std::move(*args);
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

ApiAnswer answer_of(const httplib::Result& r, const Context& ctx) {
  ApiAnswer a;
  if (!r) {
    a.error = "cannot reach calloutd at " + ctx.url + " (" + httplib::to_string(r.error()) + ")";
    return a;
  }
  a.status = r->status;
  a.body = json::parse(r->body, nullptr, false);
  if (a.status >= 300) {
    a.error = a.body.is_object() && a.body.contains("error") && a.body["error"].is_string()
                  ? a.body["error"].get<std::string>()
                  : "HTTP " + std::to_string(a.status);
  }
  return a;
}

httplib::Client client_for(const Context& ctx) {
  httplib::Client c(ctx.url);
  c.set_connection_timeout(5);
  c.set_read_timeout(30);
  if (!ctx.token.empty()) {
    c.set_bearer_token_auth(ctx.token);
  }
  return c;
}

}  // namespace

ApiAnswer api_post(const Context& ctx, const std::string& path, const json& body) {
  auto c = client_for(ctx);
  return answer_of(c.Post(path, body.dump(), "application/json"), ctx);
}

ApiAnswer api_get(const Context& ctx, const std::string& path) {
  auto c = client_for(ctx);
  return answer_of(c.Get(path), ctx);
}

int report_failure(const Context& ctx, const std::string& what, const ApiAnswer& answer) {
  // A refusal may list its reasons: what the review gate misses, the alerts that fire.
  std::vector<std::string> items;
  for (const char* key : {"missing", "details"}) {
    if (answer.body.is_object() && answer.body.contains(key) && answer.body[key].is_array()) {
      for (const auto& item : answer.body[key]) {
        items.push_back(item.is_string() ? item.get<std::string>() : item.dump());
      }
    }
  }
  ctx.err << "calloutctl: " << what << ": " << answer.error << (items.empty() ? "" : ":") << "\n";
  for (const auto& item : items) {
    ctx.err << "  - " << item << "\n";
  }
  if (answer.status == 0 || answer.status >= 500) {
    return Exit::unavailable;
  }
  return Exit::refused;
}

}  // namespace calloutd::ctl
