#include "campaign/items_file.hpp"

#include "campaign/items_csv.hpp"
#include "campaign/items_text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>
#include <unordered_map>

namespace belay::campaign {
namespace {

using Items = std::vector<json>;

// Calls VISIT(offset, char) for each character outside JSON strings until it
// returns true; returns that offset, or npos. The structure scans below run
// on raw text: before parsing, or to find a position nlohmann doesn't give.
template <typename Visit>
size_t scan_outside_strings(std::string_view text, Visit visit) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (in_string) {
      if (text[i] == '\\') {
        ++i;  // skip the escaped character, which may be a quote
      } else {
        in_string = text[i] != '"';
      }
      continue;
    }
    if (visit(i, text[i])) return i;
    in_string = text[i] == '"';
  }
  return std::string_view::npos;
}

// Where TEXT nests deeper than kMaxItemDepth, or npos. Checked before
// parsing because keys and the Lua conversion recurse over items.
size_t too_deep_at(std::string_view text) {
  int depth = 0;
  return scan_outside_strings(text, [&](size_t, char c) {
    if (c == ']' || c == '}') --depth;
    return (c == '[' || c == '{') && ++depth > kMaxItemDepth;
  });
}

// "[json.exception.parse_error.101] parse error at line 1, column 7: syntax
// error ..." → "syntax error ...": we report our own line and column.
std::string_view parser_detail(std::string_view what) {
  size_t column = what.find(", column ");
  size_t start = column == std::string_view::npos ? what.find("] ") : what.find(": ", column);
  return start == std::string_view::npos ? what : what.substr(start + 2);
}

// Parses one JSON text that starts on physical line FIRST_LINE.
Result<json> parse_json_text(std::string_view text, const std::string& source, size_t first_line) {
  if (size_t deep = too_deep_at(text); deep != std::string_view::npos) {
    return config_error(source, first_line + locate(text, deep).line - 1,
                        "nested deeper than " + std::to_string(kMaxItemDepth) + " levels");
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    Position at = locate(text, e.byte > 0 ? e.byte - 1 : 0);
    return config_error(source, first_line + at.line - 1,
                        "invalid JSON at column " + std::to_string(at.column) + ": " +
                            printable(parser_detail(e.what())));
  } catch (const json::exception& e) {
    // E.g. "number overflow parsing '1e400'": no position, so find the token.
    std::string_view detail = parser_detail(e.what());
    size_t open = detail.find('\'');
    size_t close = detail.rfind('\'');
    size_t at = open < close ? text.find(detail.substr(open + 1, close - open - 1)) : 0;
    return config_error(source, first_line + locate(text, at).line - 1,
                        "invalid JSON: " + printable(detail));
  }
}

std::string type_phrase(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

std::string not_an_object(const json& value) {
  return "an item must be a JSON object (like {\"id\": ...}), got " + type_phrase(value);
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Offset of the INDEX-th element of the top-level array in TEXT, so that an
// error about one element of a .json file can name its line.
size_t element_offset(std::string_view text, size_t index) {
  int depth = 0;
  bool element_next = false;
  size_t seen = 0;
  size_t at = scan_outside_strings(text, [&](size_t, char c) {
    if (element_next && !is_json_space(c)) {
      if (seen++ == index) return true;
      element_next = false;
    }
    if (c == '[' || c == '{') element_next = ++depth == 1;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 1) element_next = true;
    return false;
  });
  return at == std::string_view::npos ? 0 : at;
}

Result<Items> parse_jsonl_checked(std::string_view text, const std::string& source) {
  Items items;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (std::all_of(line.begin(), line.end(), is_json_space)) continue;
    Result<json> value = parse_json_text(line, source, line_no);
    if (!value) return value.error();
    if (!value.value().is_object())
      return config_error(source, line_no, not_an_object(value.value()));
    items.push_back(std::move(value.value()));
  }
  return {std::move(items)};
}

Result<Items> parse_json_array_checked(std::string_view text, const std::string& source) {
  Result<json> parsed = parse_json_text(text, source, 1);
  if (!parsed) return parsed.error();
  json& doc = parsed.value();
  if (!doc.is_array()) {
    size_t start = std::find_if_not(text.begin(), text.end(), is_json_space) - text.begin();
    return config_error(source, locate(text, start).line,
                        "expected a JSON array of items, got " + type_phrase(doc));
  }
  Items items;
  items.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    if (!doc[i].is_object()) {
      return config_error(source, locate(text, element_offset(text, i)).line,
                          "item " + std::to_string(i + 1) + ": " + not_an_object(doc[i]));
    }
    items.push_back(std::move(doc[i]));
  }
  return {std::move(items)};
}

using Parser = Result<Items> (*)(std::string_view, const std::string&);

// The public entry points: text checks first, and no exception (bad_alloc on
// a huge file) escapes to the loop.
Result<Items> run_parser(Parser parser, std::string_view text, const std::string& source) {
  try {
    if (auto bad = check_text(text, source)) return *bad;
    return parser(text, source);
  } catch (const std::exception& e) {
    return config_error(source + ": cannot parse items: " + e.what());
  }
}

std::optional<Parser> parser_for(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return std::nullopt;
  std::string ext = path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext == ".jsonl" || ext == ".ndjson") return parse_jsonl_checked;
  if (ext == ".csv") return parse_csv_records;
  if (ext == ".json") return parse_json_array_checked;
  return std::nullopt;
}

std::optional<Error> read_whole_file(const std::string& path, std::string& out) {
  std::error_code ec;
  // An ifstream "opens" a directory and then reads nothing: ask first.
  if (std::filesystem::is_directory(path, ec)) {
    return config_error(path +
                        ": cannot read items file: " + std::generic_category().message(EISDIR));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno != 0 ? errno : ENOENT;
    return config_error(path + ": cannot open items file: " + std::generic_category().message(err));
  }
  auto size = std::filesystem::file_size(path, ec);
  if (!ec) out.reserve(size);
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) out.append(buffer, in.gcount());
  if (in.bad()) {
    return config_error(path +
                        ": cannot read items file: " + std::generic_category().message(errno));
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<json>> read_items_file(const std::string& path) {
  std::optional<Parser> parser = parser_for(path);
  if (!parser) {
    return config_error(path +
                        ": unsupported items file type; use .jsonl or .ndjson (one JSON "
                        "object a line), .csv (header row) or .json (an array of objects)");
  }
  std::string text;
  try {
    if (auto bad = read_whole_file(path, text)) return *bad;
  } catch (const std::exception& e) {
    return config_error(path + ": cannot read items file: " + e.what());
  }
  return run_parser(*parser, text, path);
}

Result<std::vector<json>> parse_jsonl(std::string_view text, const std::string& source_name) {
  return run_parser(parse_jsonl_checked, text, source_name);
}

Result<std::vector<json>> parse_csv(std::string_view text, const std::string& source_name) {
  return run_parser(parse_csv_records, text, source_name);
}

Result<std::vector<json>> parse_json_array(std::string_view text, const std::string& source_name) {
  return run_parser(parse_json_array_checked, text, source_name);
}

}  // namespace belay::campaign
