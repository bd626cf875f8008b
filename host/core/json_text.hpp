#pragma once
// Parsing JSON text that came from outside. nlohmann's parser takes a NUL
// byte for the end of the text, so "1\0junk" parsed as 1 and the rest was
// skipped in silence. A raw NUL is never valid JSON (inside a string it is
// written \u0000), so a text that holds one is refused.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace belay {

// The offset of the first NUL byte in TEXT, or npos.
size_t nul_byte_at(std::string_view text);

// The parsed value, or a discarded one (is_discarded()) for text that is
// not exactly one JSON value; never throws.
nlohmann::json parse_json_or_discard(std::string_view text);

}  // namespace belay
