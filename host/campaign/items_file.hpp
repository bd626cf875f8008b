#pragma once
// Items files (DESIGN.md, `items = "contacts.jsonl"`): the campaign's work
// list, read once at startup into a vector of JSON objects. The format follows
// the extension:
//
//   .jsonl / .ndjson  one JSON object per line; blank lines skipped
//   .csv              RFC 4180 with a header row; every value is a string
//   .json             one JSON array of objects
//
// All formats accept a UTF-8 BOM, CRLF line ends and a last line without a
// newline. Text must be UTF-8 without NUL bytes (checked up front, so a binary
// or UTF-16 file gets one clear error instead of a parser's guess, and every
// string we hand on can be dumped as JSON later). Nesting deeper than
// kMaxItemDepth is rejected: later code (keys, Lua conversion) recurses.
//
// Every failure is a Kind::config error whose message is "SOURCE:LINE: what",
// LINE being the 1-based physical line; nothing throws.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace belay::campaign {

using json = nlohmann::json;

inline constexpr int kMaxItemDepth = 64;

// Reads PATH in one go and parses it by extension (case-insensitive). PATH is
// also the SOURCE of error messages, so pass it the way users should see it.
Result<std::vector<json>> read_items_file(const std::string& path);

// The in-memory forms; SOURCE_NAME only labels error messages.
Result<std::vector<json>> parse_jsonl(std::string_view text, const std::string& source_name);
Result<std::vector<json>> parse_csv(std::string_view text, const std::string& source_name);
Result<std::vector<json>> parse_json_array(std::string_view text, const std::string& source_name);

}  // namespace belay::campaign
