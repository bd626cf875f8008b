#include "campaign/items_file.hpp"

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

Error config_error(const std::string& what) {
  Error e;
  e.kind = Kind::config;
  e.message = what;
  return e;
}

Error config_error(const std::string& source, size_t line, const std::string& what) {
  return config_error(source + ":" + std::to_string(line) + ": " + what);
}

struct Position {
  size_t line;
  size_t column;
};

// Only called on the error path, so a linear count is fine.
Position locate(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  std::string_view before = text.substr(0, offset);
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  size_t last_newline = before.rfind('\n');
  size_t column = last_newline == std::string_view::npos ? offset + 1 : offset - last_newline;
  return {line, column};
}

bool is_continuation(std::string_view s, size_t i, unsigned char lo = 0x80,
                     unsigned char hi = 0xBF) {
  if (i >= s.size()) return false;
  auto c = static_cast<unsigned char>(s[i]);
  return c >= lo && c <= hi;
}

// Length of the well-formed UTF-8 sequence at S[I] (Unicode table 3-7: no
// overlongs, no surrogates, nothing past U+10FFFF), or 0. nlohmann's dump
// throws on exactly what this rejects.
size_t utf8_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return is_continuation(s, i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return is_continuation(s, i + 1, lo, hi) && is_continuation(s, i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return is_continuation(s, i + 1, lo, hi) && is_continuation(s, i + 2) &&
                   is_continuation(s, i + 3)
               ? 4
               : 0;
  }
  return 0;
}

std::string hex_byte(unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {kHex[c >> 4], kHex[c & 0xF]};
}

// Error messages end up in JSON event logs: keep them valid UTF-8, without
// control characters, and short even when quoting a megabyte-long line.
std::string printable(std::string_view s, size_t max_bytes = 160) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_bytes) return out + "...";
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_length(s, i);
    if (c < 0x20 || c == 0x7F || n == 0) {
      out += "\\x" + hex_byte(c);
    } else {
      out.append(s.substr(i, n));
      i += n - 1;
    }
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// One check for every format, before any parser sees the bytes: strips a
// UTF-8 BOM and rejects UTF-16, NUL bytes and malformed UTF-8 with a line.
std::optional<Error> check_text(std::string_view& text, const std::string& source) {
  if (starts_with(text, "\xFF\xFE") || starts_with(text, "\xFE\xFF")) {
    return config_error(source, 1, "the file is UTF-16 (byte order mark); save it as UTF-8");
  }
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x01 && c < 0x80) {
      ++i;
      continue;
    }
    Position at = locate(text, i);
    if (c == 0) {
      return config_error(source, at.line,
                          "NUL byte at column " + std::to_string(at.column) +
                              ": not a text file (binary, or UTF-16 without a byte order mark?)");
    }
    size_t n = utf8_length(text, i);
    if (n == 0) {
      return config_error(source, at.line,
                          "invalid UTF-8 (byte 0x" + hex_byte(c) + " at column " +
                              std::to_string(at.column) + "); save the file as UTF-8");
    }
    i += n;
  }
  return std::nullopt;
}

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

// Splits RFC 4180 text into records, counting physical lines so that errors
// name the line a record (or an unterminated quote) started on.
class CsvReader {
 public:
  CsvReader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  // Reads the next record into FIELDS; false at the end or on an error.
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    skip_blank_lines();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    for (;;) {
      std::string field;
      bool quoted = pos_ < text_.size() && text_[pos_] == '"';
      if (quoted ? !read_quoted(field) : !read_unquoted(field)) return false;
      fields.push_back(std::move(field));
      if (pos_ >= text_.size()) return true;
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      size_t newline = newline_at(pos_);
      if (newline == 0) return fail(line_, unexpected_after_field(text_[pos_]));
      pos_ += newline;
      ++line_;
      return true;
    }
  }

  size_t record_line() const { return record_line_; }
  const std::optional<Error>& error() const { return error_; }

 private:
  // Blank lines carry no record (like the blank lines of JSONL); this also
  // drops the empty line after the final newline.
  void skip_blank_lines() {
    while (size_t newline = newline_at(pos_)) {
      pos_ += newline;
      ++line_;
    }
  }

  // Length of the LF or CRLF at POS, or 0.
  size_t newline_at(size_t pos) const {
    std::string_view rest = text_.substr(pos);
    return starts_with(rest, "\n") ? 1 : starts_with(rest, "\r\n") ? 2 : 0;
  }

  bool read_unquoted(std::string& field) {
    size_t end = std::min(text_.find_first_of(",\r\n", pos_), text_.size());
    field.assign(text_.substr(pos_, end - pos_));
    pos_ = end;
    return true;
  }

  bool read_quoted(std::string& field) {
    size_t opened_on = line_;
    ++pos_;
    for (;;) {
      size_t quote = text_.find('"', pos_);
      if (quote == std::string_view::npos) {
        return fail(opened_on, "unterminated quoted field (its opening quote is on this line)");
      }
      std::string_view run = text_.substr(pos_, quote - pos_);
      line_ += static_cast<size_t>(std::count(run.begin(), run.end(), '\n'));
      field.append(run);
      pos_ = quote + 1;
      if (pos_ >= text_.size() || text_[pos_] != '"') return true;
      field.push_back('"');  // "" is an escaped quote
      ++pos_;
    }
  }

  // Unquoted fields stop only at , CR or LF, so this is a bare CR or a
  // character right after a closing quote.
  static std::string unexpected_after_field(char c) {
    if (c == '\r')
      return "carriage return without a line feed; save the file with LF or CRLF line ends";
    return "unexpected " + printable(std::string_view(&c, 1)) +
           " after a closing quote (a quote inside a quoted field is written \"\")";
  }

  bool fail(size_t line, const std::string& what) {
    error_ = config_error(source_, line, what);
    return false;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t record_line_ = 1;
  std::optional<Error> error_;
};

std::optional<Error> check_header(const std::vector<std::string>& header, const std::string& source,
                                  size_t line) {
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string column = "header field " + std::to_string(i + 1);
    if (header[i].empty())
      return config_error(source, line, column + " is empty; every column needs a name");
    auto [it, fresh] = seen.emplace(header[i], i);
    if (!fresh) {
      return config_error(source, line,
                          column + " repeats the name \"" + printable(header[i]) + "\" of field " +
                              std::to_string(it->second + 1));
    }
  }
  return std::nullopt;
}

std::string field_count(size_t n) { return std::to_string(n) + (n == 1 ? " field" : " fields"); }

Result<Items> parse_csv_checked(std::string_view text, const std::string& source) {
  CsvReader reader(text, source);
  std::vector<std::string> header;
  if (!reader.next(header)) {
    return reader.error() ? *reader.error()
                          : config_error(source, 1, "no header row (the file is empty)");
  }
  if (auto bad = check_header(header, source, reader.record_line())) return *bad;
  Items items;
  std::vector<std::string> fields;
  while (reader.next(fields)) {
    if (fields.size() != header.size()) {
      return config_error(
          source, reader.record_line(),
          field_count(fields.size()) + ", header has " + std::to_string(header.size()));
    }
    json::object_t row;
    for (size_t i = 0; i < fields.size(); ++i) row.emplace(header[i], std::move(fields[i]));
    items.emplace_back(std::move(row));
  }
  if (reader.error()) return *reader.error();
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
  if (ext == ".csv") return parse_csv_checked;
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
  return run_parser(parse_csv_checked, text, source_name);
}

Result<std::vector<json>> parse_json_array(std::string_view text, const std::string& source_name) {
  return run_parser(parse_json_array_checked, text, source_name);
}

}  // namespace belay::campaign
