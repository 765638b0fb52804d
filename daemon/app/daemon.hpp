// The running daemon: its parts (repository, journal, metrics, engine,
// pipeline, scan loop, remote sync, HTTP) built from a checked configuration,
// wired together, started in order, and drained on SIGTERM or SIGINT.
#pragma once

#include <signal.h>

#include "daemon/config/config.hpp"

namespace calloutd {

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it
// starts afterwards: only the daemon's sigwait sees them. Returns that set.
sigset_t block_stop_signals();

// Runs the daemon on `config` (read, checked and safe to serve) until SIGTERM
// or SIGINT, then drains: the exit status, 0 after a clean stop, 1 when it
// cannot start (bad templates, an address it cannot bind). Throws on fatal
// errors (an unusable repository or journal directory).
int run_daemon(const Config& config);

}  // namespace calloutd
