// Ids in MongoDB's ObjectId layout: 4 bytes of seconds, 5 random bytes per
// process, a 3-byte counter; written as 24 lowercase hex characters, so ids
// sort by creation time. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace parley::core {

std::string new_object_id();
// True for exactly 24 lowercase hex characters.
bool is_object_id(std::string_view text);

}  // namespace parley::core
