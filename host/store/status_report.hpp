#pragma once
// What `belay status` prints: the campaign and each profile, as plain
// aligned tables, read from a Store (opened read-only by the command).

#include <cstdint>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace belay::store {

// The campaign table, then the profile table (profiles and worker health
// joined by name; a paused profile with its PAUSED UNTIL), then the failed
// items, one line each (results_report.hpp). An error reading the store is
// returned as it is.
Result<std::string> format_status(Store& store);

// "2026-11-22T23:05:29.123Z"; "-" for 0 (never).
std::string iso8601_utc(int64_t ms);

// Columns left-aligned, two spaces apart, no trailing spaces; a header row
// first.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace belay::store
