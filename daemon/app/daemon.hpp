// The running daemon: its parts (repository, journal, metrics, engine,
// pipeline, scan loop, remote sync, HTTP) built from a checked configuration,
// wired together, started in order, reloaded on SIGHUP (and POST /-/reload),
// and drained on SIGTERM or SIGINT.
#pragma once

#include <signal.h>

#include <functional>

#include "daemon/config/config.hpp"

namespace calloutd {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, and so in every
// thread it starts afterwards: only the daemon's sigwait sees them. Returns
// that set.
sigset_t block_daemon_signals();

// Reads the configuration again as at start (the file, then the flags).
using ConfigReader = std::function<LoadedConfig()>;

// Runs the daemon on `config` (read, checked and safe to serve) until SIGTERM
// or SIGINT, then drains: the exit status, 0 after a clean stop, 1 when it
// cannot start (bad templates, an address it cannot bind). A reload reads
// the configuration with `reread`. Throws on fatal errors (an unusable
// repository or journal directory).
int run_daemon(const Config& config, ConfigReader reread);

}  // namespace calloutd
