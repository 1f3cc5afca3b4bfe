// What the Redis broker puts on a Redis channel: the publishing broker's
// node id, then the payload, so that a node can recognise its own
// publications when Redis echoes them back to its subscription and drop
// them (it delivered them to its own handlers when they were published).
//
//   <16 lowercase hex digits: node id> ' ' <payload bytes>
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::cluster {

inline constexpr std::size_t kEnvelopeHeaderBytes = 17;

// A random id, fresh for each broker (each node process, each test broker).
std::uint64_t random_node_id();

std::string wrap_publication(std::uint64_t node_id, std::string_view payload);

struct Publication {
  std::uint64_t node_id = 0;
  std::string_view payload;  // points into the unwrapped text
};

// nullopt for anything not made by wrap_publication (too short, not hex,
// no separator): such a message is not ours to deliver.
std::optional<Publication> unwrap_publication(std::string_view message);

}  // namespace parley::cluster
