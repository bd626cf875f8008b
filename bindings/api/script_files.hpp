#pragma once
// The folders a script's files go to and come from. Captures (screenshots,
// PDFs) are written under the state dir's screenshots/ and pdf/ (relative
// paths), or, given an absolute path, anywhere inside the state dir's
// screenshots/, pdf/, downloads/ or files/, the campaign's folder, or a
// folder of the campaign's `files` list. Uploads read only from the
// campaign's folder, the state dir's files/ and the `files` folders. Paths
// are judged with `..` resolved and every symlink followed: one that leaves
// the folders is a `sandbox` error. The rest of the state dir (belay.db,
// profiles/ with their cookies) is never reachable.

#include "core/error.hpp"
#include "vm/runtime.hpp"

#include <string>

namespace belay::lua {

// Where to write a capture: `subdir` ("screenshots", "pdf") is where a
// relative `path` lands. Its folder is created (0700). sandbox error when
// the path leaves the folders; script error when the folder cannot be made.
Result<std::string> capture_path(const HostHooks& hooks, const std::string& path,
                                 const char* subdir, const char* op);

// The absolute path of a file to upload: a relative `path` is looked up in
// the campaign's folder, then in the state dir's files/. sandbox error when
// it leaves the folders; script error when it is no regular file.
Result<std::string> upload_path(const HostHooks& hooks, const std::string& path, const char* op);

}  // namespace belay::lua
