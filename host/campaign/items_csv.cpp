#include "campaign/items_csv.hpp"

#include "campaign/items_text.hpp"

#include <optional>
#include <unordered_map>

namespace belay::campaign {
namespace {

using json = nlohmann::json;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
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

}  // namespace

Result<std::vector<json>> parse_csv_records(std::string_view text, const std::string& source) {
  CsvReader reader(text, source);
  std::vector<std::string> header;
  if (!reader.next(header)) {
    return reader.error() ? *reader.error()
                          : config_error(source, 1, "no header row (the file is empty)");
  }
  if (auto bad = check_header(header, source, reader.record_line())) return *bad;
  std::vector<json> items;
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

}  // namespace belay::campaign
