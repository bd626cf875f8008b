#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace belay {
// Standard base64 (RFC 4648), as CDP sends binary data. nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view data);
}  // namespace belay
