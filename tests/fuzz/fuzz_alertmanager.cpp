// libFuzzer target: the Alertmanager receiver on arbitrary bodies. A parsed
// group must yield slugs that stay inside the repository.
#include <re2/re2.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/state/group_state.hpp"
#include "daemon/text/slug.hpp"
#include "receivers/alertmanager.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto group = calloutd::receivers::parse_alertmanager(body);
  if (!group) {
    if (group.error().empty()) {
      std::abort();  // every refusal must say why
    }
    return 0;
  }
  static const RE2 k_slug("[a-z0-9]([a-z0-9-]*[a-z0-9])?");
  calloutd::group_id(*group);
  for (const auto& alert : group->alerts) {
    for (const auto& [name, value] : alert.labels) {
      if (!RE2::FullMatch(calloutd::kebab_slug(value), k_slug) ||
          !RE2::FullMatch(calloutd::technology_slug(name), k_slug)) {
        std::abort();
      }
    }
  }
  return 0;
}
