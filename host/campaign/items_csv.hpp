#pragma once
// The CSV items format: RFC 4180 with a header row; every value a string.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace belay::campaign {

// TEXT has passed check_text; SOURCE labels error messages.
Result<std::vector<nlohmann::json>> parse_csv_records(std::string_view text,
                                                      const std::string& source);

}  // namespace belay::campaign
