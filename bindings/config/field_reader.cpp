#include "config/field_reader.hpp"

#include <algorithm>
#include <cctype>

namespace belay::lua {
namespace {

// The line of the first `leaf =` in `source`, 1 if none. A plain scan, not a
// regex: the leaf is whatever key the script wrote ("x(", or 200 000 chars).
int line_of_field(const std::string& source, const std::string& leaf) {
  if (leaf.empty()) return 1;
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  for (size_t at = source.find(leaf); at != std::string::npos; at = source.find(leaf, at + 1)) {
    if (at > 0 && name_char(source[at - 1])) continue;
    size_t next = at + leaf.size();
    while (next < source.size() && std::isspace(static_cast<unsigned char>(source[next])) != 0) {
      ++next;
    }
    if (next < source.size() && source[next] == '=') {
      return 1 + static_cast<int>(std::count(source.begin(), source.begin() + at, '\n'));
    }
  }
  return 1;
}

}  // namespace

std::string field_error(const std::string& file, const std::string& source,
                        const std::string& field, const std::string& message) {
  // The leaf name of a dotted field ("retry.attempts" -> "attempts").
  std::string leaf = field.substr(field.rfind('.') == std::string::npos ? 0 : field.rfind('.') + 1);
  leaf = leaf.substr(0, leaf.find('['));
  const int line = line_of_field(source, leaf);
  return file + ":" + std::to_string(line) + ": field '" + field + "' " + message;
}

}  // namespace belay::lua
