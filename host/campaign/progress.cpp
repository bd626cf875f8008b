#include "campaign/progress.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace belay::campaign {
namespace {

using nlohmann::json;

constexpr uint64_t kRateWindowMs = 30000;
constexpr int64_t kMinWindowItems = 3;
// A log line is for reading; the whole message is in events.jsonl.
constexpr size_t kMaxValueBytes = 200;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

uint64_t steady_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

const json* field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  size_t n = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) low = 0xA0;
    if (b == 0xED) high = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) low = 0x90;
    if (b == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

bool is_c1_control(std::string_view s, size_t i) {
  return static_cast<unsigned char>(s[i]) == 0xC2 && i + 1 < s.size() &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

// Valid UTF-8 without C1 controls (U+0080 to U+009F: some terminals take
// them for escape sequences), cut to `max_bytes` on a character boundary
// ("..." marks the cut). ASCII controls are left to the caller.
std::string scrub(std::string_view s, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = is_c1_control(s, i) ? 0 : utf8_length(s, i);
    const std::string_view piece = n == 0 ? kReplacement : s.substr(i, n);
    if (out.size() + piece.size() > max_bytes) return out + "...";
    out += piece;
    i += n != 0 ? n : is_c1_control(s, i) ? 2 : 1;
  }
  return out;
}

// A profile name for the live line: one token, nothing a terminal acts on.
std::string display_name(std::string_view s) {
  std::string out = scrub(s, kMaxValueBytes);
  for (char& c : out) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F || c == ',') c = '?';
  }
  return out;
}

bool is_bare(std::string_view s) {
  if (s.empty()) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b == 0x7F || c == '"' || c == '=' || c == '\\';
  });
}

std::string quote_if_needed(std::string_view s) {
  std::string clean = scrub(s, kMaxValueBytes);
  if (is_bare(clean)) return clean;
  return json(std::move(clean)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A scalar as it appears after "key="; empty for what a log line leaves out.
std::string render(const json* value) {
  if (value == nullptr) return "";
  if (value->is_string()) return quote_if_needed(value->get_ref<const std::string&>());
  if (value->is_number() || value->is_boolean()) return value->dump();
  return "";
}

// The text of a name-like field (event, profile, outcome) for matching.
std::string text_of(const json* value) {
  if (value == nullptr) return "";
  if (value->is_string()) return value->get<std::string>();
  if (value->is_number_integer()) return value->dump();
  return "";
}

void append_field(std::string* out, std::string_view key, const json* value) {
  const std::string text = render(value);
  if (text.empty()) return;
  *out += ' ';
  *out += quote_if_needed(key);
  *out += '=';
  *out += text;
}

// A param as it appears after "key=". An error table (an object with a
// kind, as recover's `error`) shows as its kind: the rest is in events.jsonl.
const json* param_value(const json& value) {
  if (!value.is_object()) return &value;
  return field(value, "kind");
}

void append_params(std::string* out, const json& params) {
  // What a person looks for first; the rest follow by name.
  static const std::array<const char*, 8> kFirst = {"kind", "step",    "name",    "reason",
                                                    "op",   "attempt", "wait_ms", "until_ms"};
  for (const char* key : kFirst) {
    const json* value = field(params, key);
    if (value != nullptr) append_field(out, key, param_value(*value));
  }
  for (const auto& [key, value] : params.items()) {
    const bool placed = std::find_if(kFirst.begin(), kFirst.end(), [&key = key](const char* k) {
                          return key == k;
                        }) != kFirst.end();
    if (placed || key == "message" || key == "result") continue;
    append_field(out, key, param_value(value));
  }
}

// Cuts `s` to `width` code points.
std::string fit(std::string s, size_t width) {
  size_t columns = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (columns == width) {
      s.resize(i);
      break;
    }
    ++columns;
  }
  return s;
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ',';
    out += display_name(name);
  }
  return out;
}

std::string format_rate(std::optional<double> rate) {
  if (!rate) return "-- items/s";
  char buffer[48];
  // Below 0.1/s "0.0 items/s" would hide a slow but moving run.
  if (*rate >= 0.1) {
    std::snprintf(buffer, sizeof(buffer), "%.1f items/s", *rate);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1f items/min", *rate * 60);
  }
  return buffer;
}

}  // namespace

Progress::Progress(Clock clock) : clock_(clock ? std::move(clock) : Clock(steady_ms)) {
  started_ms_ = clock_();
}

void Progress::begin(int64_t total, int64_t already_done, int64_t already_failed) {
  begun_ = true;
  total_ = total;
  done_ = already_done;
  failed_ = already_failed;
  finished_this_run_ = 0;
  recent_.clear();
  started_ms_ = clock_();
}

void Progress::finished_one() {
  ++finished_this_run_;
  const uint64_t now = clock_();
  recent_.push_back(now);
  while (!recent_.empty() && now >= recent_.front() && now - recent_.front() >= kRateWindowMs) {
    recent_.pop_front();
  }
}

void Progress::observe(const json& event) {
  const std::string name = text_of(field(event, "event"));
  const std::string profile = text_of(field(event, "profile"));
  // Whatever a profile does next ends the wait it announced.
  if (name != "waiting") waiting_until_.erase(profile);
  if (name == "waiting") {
    const json* params = field(event, "params");
    const json* ms = params != nullptr ? field(*params, "ms") : nullptr;
    if (ms != nullptr && ms->is_number_integer() && ms->get<int64_t>() > 0) {
      waiting_until_[profile] = clock_() + ms->get<uint64_t>();
    }
  } else if (name == "item_ok") {
    ++done_;
    finished_one();
  } else if (name == "item_failed") {
    ++failed_;
    finished_one();
  } else if (name == "retry") {
    ++retries_;
  } else if (name == "recover") {
    if (text_of(field(event, "outcome")) == "ok") ++recoveries_;
  } else if (name == "restarting" || name == "soft_restart") {
    ++restarts_;
  } else if (name == "pause") {
    if (!profile.empty()) paused_.insert(profile);
  } else if (name == "unpause") {
    paused_.erase(profile);
  } else if (name == "fatal") {
    if (!profile.empty()) {
      fatal_.insert(profile);
      paused_.erase(profile);  // fatal says more than paused
    }
  } else if (name == "run_start" && !begun_) {
    const json* params = field(event, "params");
    const json* items = params != nullptr ? field(*params, "items") : nullptr;
    if (items != nullptr && items->is_number_integer()) total_ = items->get<int64_t>();
  }
}

std::optional<double> Progress::rate() const {
  if (finished_this_run_ == 0) return std::nullopt;
  const uint64_t now = clock_();
  const uint64_t elapsed = now > started_ms_ ? now - started_ms_ : 0;
  if (elapsed >= kRateWindowMs) {
    const auto in_window = std::count_if(recent_.begin(), recent_.end(), [now](uint64_t t) {
      return t <= now && now - t < kRateWindowMs;
    });
    if (in_window >= kMinWindowItems) {
      return static_cast<double>(in_window) * 1000.0 / kRateWindowMs;
    }
  }
  if (elapsed == 0) return std::nullopt;
  return static_cast<double>(finished_this_run_) * 1000.0 / static_cast<double>(elapsed);
}

std::optional<uint64_t> Progress::eta_seconds() const {
  if (total_ < 0) return std::nullopt;
  const int64_t remaining = std::max<int64_t>(0, total_ - done_ - failed_);
  if (remaining == 0) return 0;
  const auto r = rate();
  if (!r || *r <= 0) return std::nullopt;
  // Capped so that a near-zero rate cannot overflow the conversion.
  return static_cast<uint64_t>(std::min(std::ceil(static_cast<double>(remaining) / *r), 1e12));
}

std::string Progress::line(size_t width) const {
  std::string out = "belay  " + std::to_string(done_);
  if (total_ >= 0) out += "/" + std::to_string(total_);
  out += " done  " + std::to_string(failed_) + " failed  " + format_rate(rate());
  const auto eta = eta_seconds();
  out += "  ETA " + (eta ? format_eta(*eta) : std::string("--"));
  out += "  retries " + std::to_string(retries_) + "  recoveries " + std::to_string(recoveries_) +
         "  restarts " + std::to_string(restarts_);
  if (!paused_.empty()) out += "  paused " + join(paused_);
  std::string waiting;
  const uint64_t now = clock_();
  for (const auto& [profile, until] : waiting_until_) {
    if (until <= now) continue;
    if (!waiting.empty()) waiting += ',';
    waiting += (profile.empty() ? std::string("run") : display_name(profile)) + " " +
               format_eta((until - now + 999) / 1000);
  }
  if (!waiting.empty()) out += "  waiting " + waiting;
  if (!fatal_.empty()) out += "  fatal " + join(fatal_);
  return fit(std::move(out), width);
}

std::string format_eta(uint64_t seconds) {
  const uint64_t h = seconds / 3600;
  const uint64_t m = seconds % 3600 / 60;
  const uint64_t s = seconds % 60;
  char buffer[48];
  if (h > 0) {
    std::snprintf(buffer, sizeof(buffer), "%llu:%02llu:%02llu", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llu:%02llu", static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(s));
  }
  return buffer;
}

std::string plain_line(const json& event) {
  std::string out = render(field(event, "event"));
  if (out.empty()) out = "event";
  const std::string outcome = render(field(event, "outcome"));
  if (!outcome.empty()) out += " " + outcome;
  append_field(&out, "profile", field(event, "profile"));
  append_field(&out, "item", field(event, "item"));
  const json* params = field(event, "params");
  const bool has_params = params != nullptr && params->is_object();
  if (has_params) append_params(&out, *params);
  append_field(&out, "dur_ms", field(event, "dur_ms"));
  // Last: it is the long one, and a reader scans the short ones first.
  if (has_params) append_field(&out, "message", field(*params, "message"));
  return out;
}

}  // namespace belay::campaign
