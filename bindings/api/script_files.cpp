#include "api/script_files.hpp"

#include "core/path_inside.hpp"
#include "core/private_files.hpp"

#include <filesystem>

namespace belay::lua {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> with_campaign_folders(std::vector<std::string> roots,
                                               const HostHooks& hooks) {
  if (!hooks.campaign_dir.empty()) roots.push_back(hooks.campaign_dir);
  roots.insert(roots.end(), hooks.file_dirs.begin(), hooks.file_dirs.end());
  return roots;
}

std::string listed(const std::vector<std::string>& roots) {
  std::string out;
  for (const auto& root : roots) out += (out.empty() ? "" : ", ") + root;
  return out;
}

}  // namespace

Result<std::string> capture_path(const HostHooks& hooks, const std::string& path,
                                 const char* subdir, const char* op) {
  if (path.empty()) return Error{Kind::script, std::string(op) + ": the path is empty", op, {}};
  const std::string state = hooks.state_dir;
  const std::vector<std::string> roots = with_campaign_folders(
      {state + "/screenshots", state + "/pdf", state + "/downloads", state + "/files"}, hooks);
  const std::string wanted =
      fs::path(path).is_absolute() ? path : state + "/" + subdir + "/" + path;
  // The default folder may not exist yet: made first, so that a symlink
  // planted in its place is followed like any other.
  if (!fs::path(path).is_absolute()) {
    if (auto problem = make_private_dirs(state + "/" + subdir)) {
      return Error{Kind::script, std::string(op) + ": " + *problem, op, {}};
    }
  }
  auto inside = resolve_inside(wanted, roots);
  if (!inside) {
    return Error{Kind::sandbox,
                 std::string(op) + ": '" + path + "' is outside the folders scripts may write (" +
                     listed(roots) + ")",
                 op,
                 {}};
  }
  const std::string folder = fs::path(*inside).parent_path().string();
  if (auto problem = make_private_dirs(folder)) {
    return Error{Kind::script, std::string(op) + ": " + *problem, op, {}};
  }
  return *inside;
}

Result<std::string> upload_path(const HostHooks& hooks, const std::string& path, const char* op) {
  if (path.empty()) return Error{Kind::script, std::string(op) + ": the path is empty", op, {}};
  const std::vector<std::string> roots = with_campaign_folders({hooks.state_dir + "/files"}, hooks);
  std::string wanted = path;
  if (!fs::path(path).is_absolute()) {
    std::error_code ec;
    wanted = hooks.state_dir + "/files/" + path;
    if (!hooks.campaign_dir.empty() && fs::exists(hooks.campaign_dir + "/" + path, ec)) {
      wanted = hooks.campaign_dir + "/" + path;
    }
  }
  auto inside = resolve_inside(wanted, roots);
  if (!inside) {
    return Error{Kind::sandbox,
                 std::string(op) + ": '" + path + "' is outside the folders scripts may read (" +
                     listed(roots) + ")",
                 op,
                 {}};
  }
  std::error_code ec;
  if (!fs::is_regular_file(*inside, ec)) {
    return Error{Kind::script,
                 std::string(op) + ": '" + path + "' is no file (looked at " + *inside + ")",
                 op,
                 {}};
  }
  return *inside;
}

}  // namespace belay::lua
