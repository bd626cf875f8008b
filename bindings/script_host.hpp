#pragma once
// The host's one handle on the scripting side, with no Lua in its
// interface: load a campaign, hand its executor to a runner, reload it, or
// check a file. cli/ talks to this and never to Lua.

#include "campaign/config.hpp"
#include "campaign/item_executor.hpp"
#include "campaign/supervisor_policy.hpp"
#include "core/error.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace belay::lua {

struct ScriptHostOptions {
  std::string state_dir = ".";  // where captures go (api/script_files.hpp)
  std::function<void(std::string_view level, std::string_view message)> log;
  std::function<void(const std::string& name, const nlohmann::json& params)> event;
};

// What `belay check` found in a file.
struct CheckReport {
  std::string kind;     // "campaign", "ladder" or "module"
  std::string summary;  // e.g. "campaign 'greet', 3 items, 2 profiles"
};

class ScriptHost {
 public:
  static std::unique_ptr<ScriptHost> create(uv_loop_t* loop, ScriptHostOptions options);
  virtual ~ScriptHost() = default;

  // Loads the campaign at `path` (compile, top level, validation, items).
  virtual Result<campaign::CampaignConfig> load(const std::string& path) = 0;
  // Loads the file again; on success the executor uses the new version from
  // the next item on. On failure the old version stays.
  virtual Result<uint64_t> reload() = 0;
  // The files the campaign was loaded from, absolute, each once: the campaign,
  // its ladders and the modules it required (hot reload watches exactly
  // these). Refreshed by each reload, which may require new modules; after a
  // failed one the files it read are added, so saving their fix reloads.
  virtual std::vector<std::string> loaded_files() const = 0;
  virtual campaign::ItemExecutor& executor() = 0;
  // The supervisor's decisions: the loaded version's functions, else
  // belay.supervisor's (after a successful load only).
  virtual campaign::SupervisorPolicy& policy() = 0;
  // Cancels every call in flight (shutdown).
  virtual void cancel_all(const Error& why) = 0;
};

// Compiles and validates one file in a fresh sandbox, without a browser.
Result<CheckReport> check_file(const std::string& path);

}  // namespace belay::lua
