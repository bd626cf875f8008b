#include "store/results_report.hpp"

#include "store/status_report.hpp"

#include <algorithm>
#include <vector>

namespace belay::store {
namespace {

using nlohmann::json;

constexpr size_t kCellMax = 160;

std::string text_field(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// One line, at most `max` bytes, never cut inside a UTF-8 sequence.
std::string fold(const std::string& text, size_t max) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    const bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (blank) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() <= max) return out;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  return out.substr(0, cut) + "...";
}

std::string compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string one_line_error(const json& error, size_t max) {
  if (!error.is_object()) return fold(compact(error), max);
  std::string text = text_field(error, "kind");
  const std::string message = text_field(error, "message");
  const std::string op = text_field(error, "op");
  if (!message.empty()) text += (text.empty() ? "" : ": ") + message;
  if (!op.empty()) text += " (" + op + ")";
  return fold(text, max);
}

Result<std::string> format_results(Store& store, std::optional<ItemStatus> status,
                                   ResultsFormat format) {
  auto items = store.items();
  if (!items) return items.error();
  std::vector<ItemRecord> rows;
  for (auto& row : items.value()) {
    if (!status || row.status == *status) rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const ItemRecord& a, const ItemRecord& b) { return a.idx < b.idx; });
  std::string out;
  switch (format) {
    case ResultsFormat::json_lines:
      for (const auto& row : rows) {
        out += compact(json{{"key", row.key},
                            {"index", row.idx},
                            {"status", status_name(row.status)},
                            {"attempts", row.attempts},
                            {"profile", row.profile},
                            {"updated_at", iso8601_utc(row.updated_at_ms)},
                            {"result", row.result},
                            {"error", row.error}}) +
               "\n";
      }
      return out;
    case ResultsFormat::csv:
      out = "key,index,status,attempts,profile,updated_at,result,error\r\n";
      for (const auto& row : rows) {
        out += csv_cell(row.key) + "," + std::to_string(row.idx) + "," +
               std::string(status_name(row.status)) + "," + std::to_string(row.attempts) + "," +
               csv_cell(row.profile) + "," + iso8601_utc(row.updated_at_ms) + "," +
               csv_cell(row.result.is_null() ? "" : compact(row.result)) + "," +
               csv_cell(row.error.is_null() ? "" : compact(row.error)) + "\r\n";
      }
      return out;
    case ResultsFormat::table:
      break;
  }
  if (rows.empty()) return std::string(status ? "no item is " : "no items yet") +
                           (status ? std::string(status_name(*status)) : "") + "\n";
  std::vector<std::vector<std::string>> table;
  for (const auto& row : rows) {
    std::string outcome = "-";
    if (!row.error.is_null()) {
      outcome = one_line_error(row.error, kCellMax);
    } else if (!row.result.is_null()) {
      outcome = fold(compact(row.result), kCellMax);
    }
    table.push_back({fold(row.key, kCellMax), std::to_string(row.idx),
                     std::string(status_name(row.status)), std::to_string(row.attempts),
                     row.profile.empty() ? "-" : fold(row.profile, kCellMax),
                     iso8601_utc(row.updated_at_ms), outcome});
  }
  return format_table({"KEY", "INDEX", "STATUS", "ATTEMPTS", "PROFILE", "UPDATED", "OUTCOME"},
                      table);
}

Result<std::string> format_failures(Store& store) {
  auto items = store.items();
  if (!items) return items.error();
  std::vector<ItemRecord> failed;
  for (auto& row : items.value()) {
    if (row.status == ItemStatus::failed) failed.push_back(std::move(row));
  }
  if (failed.empty()) return std::string();
  std::sort(failed.begin(), failed.end(),
            [](const ItemRecord& a, const ItemRecord& b) { return a.idx < b.idx; });
  std::vector<std::vector<std::string>> table;
  for (const auto& row : failed) {
    table.push_back({fold(row.key, kCellMax), std::to_string(row.attempts),
                     text_field(row.error, "kind").empty() ? "-" : text_field(row.error, "kind"),
                     fold(text_field(row.error, "message"), kCellMax)});
  }
  return format_table({"FAILED ITEM", "ATTEMPTS", "KIND", "MESSAGE"}, table);
}

}  // namespace belay::store
