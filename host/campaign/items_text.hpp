#pragma once
// What every items format shares before and after parsing: the text checks
// (BOM, UTF-16, NUL bytes, malformed UTF-8, each with its line) and the
// `config` errors that name "SOURCE:LINE", with quoted text kept printable.

#include "core/error.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace belay::campaign {

Error config_error(const std::string& what);
Error config_error(const std::string& source, size_t line, const std::string& what);

struct Position {
  size_t line;
  size_t column;
};
// The line and column of OFFSET in TEXT (1-based).
Position locate(std::string_view text, size_t offset);

// Error messages end up in JSON event logs: keep them valid UTF-8, without
// control characters, and short even when quoting a megabyte-long line.
std::string printable(std::string_view s, size_t max_bytes = 160);

// One check for every format, before any parser sees the bytes: strips a
// UTF-8 BOM and rejects UTF-16, NUL bytes and malformed UTF-8 with a line.
std::optional<Error> check_text(std::string_view& text, const std::string& source);

}  // namespace belay::campaign
