// Fresh users for a run, registered through POST /api/auth/register with
// emails under a run-specific prefix, a bounded number at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley-bench/endpoint.hpp"

namespace parley::bench {

struct Account {
  std::string id;     // the user's _id
  std::string token;  // a JWT for Authorization / the Socket.IO CONNECT
};

struct RegisterPlan {
  std::size_t count = 0;
  unsigned concurrency = 16;
  double timeout_s = 60;
  bool progress = true;
};

// A prefix no earlier run on the same database used (process id and time).
std::string run_prefix();

// Registers plan.count users on the calling thread; nullopt on the first
// failure (or the deadline), with the reason in `error`.
std::optional<std::vector<Account>> register_accounts(const ServerTarget& target,
                                                      const SourceAddresses& sources,
                                                      std::string_view prefix,
                                                      const RegisterPlan& plan, std::string& error);

}  // namespace parley::bench
