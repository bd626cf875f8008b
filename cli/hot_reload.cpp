#include "hot_reload.hpp"

#include <cctype>
#include <filesystem>

namespace belay::cli {

namespace fs = std::filesystem;

HotReload::HotReload(uv_loop_t* loop, lua::ScriptHost& host, campaign::EventLog& events,
                     const std::string& campaign_path)
    : host_(host),
      events_(events),
      campaign_(fs::absolute(campaign_path).lexically_normal().string()),
      watcher_(loop, [this](const std::string& path) { reload(path); }) {}

void HotReload::watch() {
  watching_ = true;
  watch_loaded_files();
  const fs::path dir = fs::path(campaign_).parent_path();
  for (const char* name : {"recovery-ladders", "scripts"}) {
    if (fs::is_directory(dir / name)) watcher_.watch_directory((dir / name).string());
  }
}

void HotReload::stop() {
  watching_ = false;
  watched_.clear();
  watcher_.stop();
}

void HotReload::watch_loaded_files() {
  for (const std::string& file : host_.loaded_files()) {
    if (watched_.insert(file).second) watcher_.watch_file(file);
  }
}

Result<nlohmann::json> HotReload::reload(const std::string& changed) {
  auto version = host_.reload();
  // Even a failed reload may have read new modules: their fix must reload.
  if (watching_) watch_loaded_files();
  if (!version) {
    nlohmann::json params = reload_failure(version.error());
    if (!params.contains("file")) params["file"] = changed;
    events_.write(campaign::Event{"reload", "", "", "", params, "fail", {}});
    return version.error();
  }
  events_.write(campaign::Event{
      "reload", "", "", "", {{"file", changed}, {"version", version.value()}}, "ok", {}});
  return nlohmann::json{{"version", version.value()}};
}

// A plain scan, not a regex: the message is the script's and may be megabytes.
nlohmann::json reload_failure(const Error& e) {
  nlohmann::json params = {{"message", e.message}, {"kind", kind_name(e.kind)}};
  const std::string& text = e.message;
  for (size_t colon = text.find(':'); colon != std::string::npos;
       colon = text.find(':', colon + 1)) {
    size_t end = colon + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) ++end;
    const size_t digits = end - colon - 1;
    if (colon == 0 || digits == 0 || digits > 9 || text.compare(end, 2, ": ") != 0) continue;
    // Lua names the file as it was given; the watcher reports it absolute.
    std::error_code ec;
    params["file"] = fs::absolute(text.substr(0, colon), ec).lexically_normal().string();
    params["line"] = std::stoi(text.substr(colon + 1, digits));
    params["message"] = text.substr(end + 2);
    break;
  }
  return params;
}

}  // namespace belay::cli
