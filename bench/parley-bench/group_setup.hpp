// The group of group mode, created through POST /api/conversations
// {"type":"group","name","memberIds"} as its first member (the owner). The
// server refuses more than MAX_GROUP_MEMBERS (default 256) members.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley-bench/accounts.hpp"
#include "parley-bench/endpoint.hpp"

namespace parley::bench {

// The body of the create request: `members[0]` is the caller, the others
// are its memberIds, in order.
std::string group_create_body(std::string_view name, const std::vector<Account>& members);

// Creates the group on the calling thread; its _id, or nullopt with the
// reason in `error` (an HTTP error, an unexpected answer, the deadline).
std::optional<std::string> create_group(const ServerTarget& target,
                                        const std::optional<boost::asio::ip::address>& source,
                                        std::string_view name, const std::vector<Account>& members,
                                        double timeout_s, std::string& error);

}  // namespace parley::bench
