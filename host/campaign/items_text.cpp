#include "campaign/items_text.hpp"

#include <algorithm>

namespace belay::campaign {
namespace {

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

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Error config_error(const std::string& what) {
  Error e;
  e.kind = Kind::config;
  e.message = what;
  return e;
}

Error config_error(const std::string& source, size_t line, const std::string& what) {
  return config_error(source + ":" + std::to_string(line) + ": " + what);
}

// Only called on the error path, so a linear count is fine.
Position locate(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  std::string_view before = text.substr(0, offset);
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  size_t last_newline = before.rfind('\n');
  size_t column = last_newline == std::string_view::npos ? offset + 1 : offset - last_newline;
  return {line, column};
}

// Error messages end up in JSON event logs: keep them valid UTF-8, without
// control characters, and short even when quoting a megabyte-long line.
std::string printable(std::string_view s, size_t max_bytes) {
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

}  // namespace belay::campaign
