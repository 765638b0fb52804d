// The re-fire path: one open incident's notification posted again and again
// by wrk (nothing to commit: a duplicate changes nothing), against each
// daemon under test and against a bare cpp-httplib server, in turn.
#pragma once

#include <vector>

#include "support.hpp"

namespace calloutd::bench {

struct RefireOptions {
  std::string bare_server;  // calloutd_bench_bare_server
  std::string lua;          // bench/post.lua
  int seconds = 5;          // of wrk per connection count and server
};

// For 1, 8, 32 and 64 connections: each target's requests per second and
// latency p50/p99 (wrk's), then the bare server's. One array of rows per
// target, in `targets`' order. Prints as it goes.
std::vector<json> refire(const std::vector<Target>& targets, const RefireOptions& options,
                         const json& sample, const fs::path& work);

}  // namespace calloutd::bench
