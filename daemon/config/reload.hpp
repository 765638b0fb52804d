// What a reload may change. Routes, credentials, receivers, templates,
// rotas, shifts and incident settings take effect at once; the settings the
// running parts were built with (the listening socket and its limits, the
// repository and its remote, the journal, the pipeline's queue) need a
// restart, and a reload that changes one says so rather than ignoring it.
#pragma once

#include <string>
#include <vector>

#include "daemon/config/config.hpp"

namespace calloutd {

// The keys (as written in calloutd.yml, or the flag) whose value differs
// between `running` and `loaded` and that only a restart applies.
std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded);

// `loaded` with the restart-only settings of `running`: what the daemon runs
// with after the reload.
Config keep_restart_only(const Config& running, Config loaded);

// Why a reload may not apply `loaded` over `running`: it removes every
// credential `running` asks for (an emptied file, a template caught
// mid-write). Turning authentication off takes a restart. Empty: it may.
std::string weakens_authentication(const Config& running, const Config& loaded);

// Every restart-only key as written in calloutd.yml (`repository.remote.url`).
std::vector<std::string> restart_only_keys();

}  // namespace calloutd
