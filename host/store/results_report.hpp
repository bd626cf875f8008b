#pragma once
// What `belay results` prints: every item of the state with its status and
// its result or error, as an aligned table, JSON Lines or CSV; and the
// one-line-per-item list of failures `belay status` ends with.

#include <optional>
#include <string>

#include "store/store.hpp"

namespace belay::store {

enum class ResultsFormat { table, json_lines, csv };

// Items in file order (idx), only those with `status` when given.
//   table: KEY INDEX STATUS ATTEMPTS PROFILE UPDATED OUTCOME, where OUTCOME
//          is the result as compact JSON or the error as "kind: message
//          (op)", folded to one line and cut to 160 characters;
//   json_lines: one object a line, {key, index, status, attempts, profile,
//          updated_at, result, error}, nothing cut;
//   csv: RFC 4180, a header row, result and error as compact JSON.
Result<std::string> format_results(Store& store, std::optional<ItemStatus> status,
                                   ResultsFormat format);

// "FAILED ITEMS" and one line per failed item (key, kind, message folded
// and cut), or "" when none failed.
Result<std::string> format_failures(Store& store);

// An error's JSON ({kind, message, op}) as "kind: message (op)" on one line:
// newlines and tabs become spaces, then it is cut to `max` bytes ("...").
std::string one_line_error(const nlohmann::json& error, size_t max);

}  // namespace belay::store
