#pragma once
// Files and directories in the state directory hold profiles, item data and
// page screenshots: they are created 0600 and 0700 from the start, whatever
// the umask, so no other user can read them even for a moment.

#include <optional>
#include <string>
#include <string_view>

namespace belay {

// Creates `dir` and any missing parents 0700, and makes `dir` itself 0700 if
// it already existed. An error message, or nullopt.
std::optional<std::string> make_private_dirs(const std::string& dir);

// Writes `bytes` to `path` (truncating), creating it 0600. An error message,
// or nullopt.
std::optional<std::string> write_private_file(const std::string& path, std::string_view bytes);

}  // namespace belay
