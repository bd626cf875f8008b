#pragma once
// Whether a path stays inside a set of folders once every symlink is
// followed and every `..` is resolved: the check behind the folders scripts
// may read and write. A file that does not exist yet is judged by the
// folder it would be created in.

#include <optional>
#include <string>
#include <vector>

namespace belay {

// `path` resolved (absolute, symlinks followed), when it lies inside one of
// `roots` (themselves resolved the same way); nullopt otherwise.
std::optional<std::string> resolve_inside(const std::string& path,
                                          const std::vector<std::string>& roots);

}  // namespace belay
