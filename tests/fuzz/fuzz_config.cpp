// libFuzzer target: the YAML config reader. It never throws, and every error
// it reports starts with `FILE:LINE: `.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = calloutd::parse_config(text, "fuzz.yml", "/nonexistent-calloutd-fuzz");
  for (const auto& e : loaded.errors) {
    if (e.rfind("fuzz.yml:", 0) != 0) {
      std::abort();
    }
  }
  return 0;
}
