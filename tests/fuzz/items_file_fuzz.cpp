// Items files (JSONL, CSV, JSON array) as a user might write them, or not.
// Checks that every failure is a `config` error "SOURCE:LINE: what" with a
// line inside the text, a bounded message and valid UTF-8; that every item
// is an object that dumps as JSON without throwing; that what parsed parses
// again to the same items once written back in its own format; and that
// item keys and canonical JSON hold up (canonical JSON is a fixed point).
//
// Input: [format byte: 0 jsonl, 1 csv, 2 json] text...

#include "campaign/item_key.hpp"
#include "campaign/items_file.hpp"
#include "fuzz_targets.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace belay::fuzz {
namespace {

using campaign::json;
using Items = std::vector<json>;

struct Format {
  const char* source;
  Result<Items> (*parse)(std::string_view, const std::string&);
};

const Format kFormats[] = {{"items.jsonl", campaign::parse_jsonl},
                           {"items.csv", campaign::parse_csv},
                           {"items.json", campaign::parse_json_array}};

bool dumps(const json& value) {
  try {
    (void)value.dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

void check_error(const Error& error, const std::string& source, std::string_view text) {
  const std::string& m = error.message;
  FUZZ_CHECK_MSG(error.kind == Kind::config, m);
  FUZZ_CHECK_MSG(m.rfind(source + ":", 0) == 0, m);
  FUZZ_CHECK_MSG(m.rfind(source + ": cannot parse items", 0) != 0, m);  // an exception caught
  FUZZ_CHECK_MSG(m.size() < 600, m);
  FUZZ_CHECK_MSG(dumps(json(m)), m);
  const size_t line = std::strtoull(m.c_str() + source.size() + 1, nullptr, 10);
  const size_t lines = 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  FUZZ_CHECK_MSG(line >= 1 && line <= lines, m);
}

std::string csv_field(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

// The items written back in the format they came from.
std::string write_back(size_t format, const Items& items, const std::vector<std::string>& header) {
  std::string out;
  if (format == 0) {
    for (const json& item : items) out += item.dump() + "\n";
  } else if (format == 1) {
    for (size_t i = 0; i < header.size(); ++i) out += (i ? "," : "") + csv_field(header[i]);
    out += "\r\n";
    for (const json& item : items) {
      for (size_t i = 0; i < header.size(); ++i) {
        out += (i ? "," : "") + csv_field(item.at(header[i]).get<std::string>());
      }
      out += "\n";
    }
  } else {
    out = json(items).dump(1);
  }
  return out;
}

void check_items(size_t format, const Items& items, std::string_view text) {
  std::vector<std::string> header;
  for (const json& item : items) {
    FUZZ_CHECK(item.is_object());
    FUZZ_CHECK(dumps(item));
    const std::string canonical = campaign::canonical_json(item);
    FUZZ_CHECK_MSG(json::accept(canonical), canonical);
    FUZZ_CHECK_MSG(campaign::canonical_json(json::parse(canonical)) == canonical, canonical);
    const std::string key = campaign::item_key(item);
    FUZZ_CHECK(!key.empty());
  }
  (void)campaign::duplicate_keys(items);
  (void)campaign::items_fingerprint(items);
  if (format == 1) {
    // CSV: every value a string, every row the header's columns (its order
    // is lost in the object, so take the first row's and compare as sets).
    if (items.empty()) return;
    for (const auto& [column, value] : items.front().items()) header.push_back(column);
    for (const json& item : items) {
      FUZZ_CHECK(item.size() == header.size());
      for (const auto& [column, value] : item.items()) FUZZ_CHECK(value.is_string());
    }
  }
  const std::string again = write_back(format, items, header);
  Result<Items> reparsed = kFormats[format].parse(again, kFormats[format].source);
  FUZZ_CHECK_MSG(reparsed.ok(), reparsed.ok() ? "" : reparsed.error().message + "\n" + again);
  FUZZ_CHECK_MSG(reparsed.value() == items, std::string(text));
}

}  // namespace

int fuzz_items_file(const uint8_t* data, size_t size) {
  InputReader in(data, size);
  const size_t format = in.byte() % 3;
  const std::string_view text = in.rest();
  const Format& f = kFormats[format];
  Result<Items> items = f.parse(text, f.source);
  if (items.ok()) {
    check_items(format, items.value(), text);
  } else {
    check_error(items.error(), f.source, text);
  }
  return 0;
}

}  // namespace belay::fuzz
