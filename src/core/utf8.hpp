// UTF-8 helpers. The contract counts lengths of names, texts and tempIds in
// Unicode code points.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace parley::core {

// Number of code points, or nullopt when `text` is not valid UTF-8
// (overlong forms, surrogates and values above U+10FFFF are invalid).
std::optional<std::size_t> utf8_length(std::string_view text);

// Trims Unicode whitespace (ASCII whitespace, NBSP, U+2000..U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000, U+FEFF, U+1680) at both ends, like
// JavaScript's String.prototype.trim. Input must be valid UTF-8.
std::string_view trim_unicode(std::string_view text);

// ASCII lower-casing; other bytes unchanged.
std::string ascii_lower(std::string_view text);

}  // namespace parley::core
