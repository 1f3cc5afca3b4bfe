// The modes of parley-bench. Each runs to completion on the calling
// thread (driving its worker threads), prints one JSON object on stdout
// and returns the exit status: 0 success, 1 the run failed.
#pragma once

#include "parley-bench/options.hpp"

namespace parley::bench {

int run_pairs(const Options& options);
int run_group(const Options& options);
int run_idle(const Options& options);
int run_http(const Options& options);

// For failures before there is anything to measure: prints
// {"mode":..,"ok":false,"error":..} and returns 1.
int fail_early(const Options& options, const std::string& error);

}  // namespace parley::bench
