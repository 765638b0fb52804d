// The `rota` section of calloutd.yml: who is on call for which technologies.
#include "daemon/config/reader.hpp"
#include "daemon/text/slug.hpp"
#include "daemon/text/untrusted_text.hpp"

namespace calloutd::config_detail {
namespace {

// A list of people's names (non-empty strings, no duplicates).
std::vector<std::string> read_people(Checker& c, const YAML::Node& node, const std::string& path) {
  std::vector<std::string> people;
  if (!node.IsSequence() || node.size() == 0) {
    c.error(node, path + ": expected a non-empty list of names");
    return people;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string name;
    auto item = path + "[" + std::to_string(i) + "]";
    if (!c.scalar(node[i], item, name)) {
      continue;
    }
    if (name.find_first_of("\n\r") != std::string::npos || normalise_person_name(name).empty()) {
      c.error(node[i], item + ": expected a name on one line");
    } else {
      people.push_back(normalise_person_name(name));  // as every name the engine compares
    }
  }
  return people;
}

// Technology slugs, kept as written; one that is not a slug is an error.
void read_technologies(Checker& c, const YAML::Node& techs, const std::string& path,
                       std::vector<std::string>& out) {
  if (!techs.IsSequence()) {
    c.error(techs, path + ": expected a list of technology slugs");
    return;
  }
  for (std::size_t i = 0; i < techs.size(); ++i) {
    std::string tech;
    auto item = path + "[" + std::to_string(i) + "]";
    if (c.scalar(techs[i], item, tech)) {
      if (technology_slug(tech) != tech) {
        c.error(techs[i],
                item + ": \"" + tech + "\" is not a slug (use \"" + technology_slug(tech) + "\")");
      }
      out.push_back(tech);
    }
  }
}

// `start` (YYYY-MM-DD) and `handover_at` (HH:MM), in the rota's time zone.
void read_start(Checker& c, const YAML::Node& node, const std::string& path, Rota& rota) {
  std::string text;
  if (!node["start"]) {
    c.error(node, path + ": missing start (the YYYY-MM-DD the first person's turn begins)");
  } else if (c.scalar(node["start"], path + ".start", text)) {
    auto t = parse_timeline_time(text + " 00:00");
    if (text.size() != 10 || !t) {
      c.error(node["start"], path + ".start: \"" + text + "\" is not a date (YYYY-MM-DD)");
    } else {
      rota.start =
          std::chrono::local_days{std::chrono::floor<std::chrono::days>(*t).time_since_epoch()};
    }
  }
  if (node["handover_at"] && c.scalar(node["handover_at"], path + ".handover_at", text)) {
    auto t = parse_timeline_time("2000-01-01 " + text);
    if (text.size() != 5 || !t) {
      c.error(node["handover_at"],
              path + ".handover_at: \"" + text + "\" is not a time of day (HH:MM)");
    } else {
      rota.handover_at = std::chrono::duration_cast<std::chrono::seconds>(
          *t - std::chrono::floor<std::chrono::days>(*t));
    }
  }
}

void read_rota(Checker& c, const YAML::Node& node, const std::string& path, Rota& rota) {
  if (!c.mapping(node, path,
                 {"name", "technologies", "time_zone", "start", "handover_at", "every", "primary",
                  "secondary"})) {
    return;
  }
  if (!node["name"]) {
    c.error(node, path + ": missing name");
  } else {
    c.scalar(node["name"], path + ".name", rota.name);
  }
  if (auto techs = node["technologies"]) {
    read_technologies(c, techs, path + ".technologies", rota.technologies);
  }
  std::string zone_name;
  if (node["time_zone"] && c.scalar(node["time_zone"], path + ".time_zone", zone_name)) {
    auto zone = TimeZone::load(zone_name);
    if (!zone) {
      c.error(node["time_zone"], path + ".time_zone: " + zone.error());
    } else {
      rota.zone = *zone;
    }
  }
  read_start(c, node, path, rota);
  if (node["every"]) {
    std::chrono::seconds every{0};
    c.duration(node["every"], path + ".every", every);
    if (every.count() > 0 && every.count() % 86400 == 0) {
      rota.every_days = static_cast<int>(every.count() / 86400);
    } else if (every.count() != 0) {
      c.error(node["every"], path + ".every: a rota turns in whole days (1d, 7d, 14d)");
    }
  }
  if (!node["primary"]) {
    c.error(node, path + ": missing primary (the people who take Operations in turn)");
  } else {
    rota.primary = read_people(c, node["primary"], path + ".primary");
  }
  if (node["secondary"]) {
    rota.secondary = read_people(c, node["secondary"], path + ".secondary");
  }
}

}  // namespace

void read_rotas(Checker& c, const YAML::Node& node, Config& cfg) {
  if (!node.IsSequence()) {
    c.error(node, "rota: expected a list of rotas");
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    Rota rota;
    read_rota(c, node[i], "rota[" + std::to_string(i) + "]", rota);
    cfg.rotas.push_back(std::move(rota));
  }
}

}  // namespace calloutd::config_detail
