#pragma once
// "did you mean …?" for a name a user mistyped: an option key, a campaign
// field. Case, '_' and '-' are ignored first (fullPage → full_page), then
// the closest name within a small edit distance wins.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace belay {

// The candidate `name` most likely meant, or nothing when none is close.
std::optional<std::string> nearest_name(std::string_view name,
                                        const std::vector<std::string_view>& candidates);

// " (did you mean 'x'?)" or "" — to append to an "unknown …" message.
std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace belay
