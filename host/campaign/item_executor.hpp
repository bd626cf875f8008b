#pragma once
// The seam between the runner (C++, decides when and where an item runs)
// and the script (Lua, decides what running it means: the campaign's run,
// call retry and the recovery ladder). The runner never sees Lua; bindings
// implement ItemExecutor, the runner implements ItemHost.

#include "browser/browser_session.hpp"
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace belay::campaign {

struct ItemAttempt {
  nlohmann::json item;
  std::string key;
  int index = 0;    // from 1
  int attempt = 1;  // the first try's number, from 1; counts over runs
  std::string profile;
  nlohmann::json saved;  // the last checkpoint, or null
};

// What a running item may ask of the host.
class ItemHost {
 public:
  virtual ~ItemHost() = default;
  // An event about this item (retry, recover, or a script's ctx:event).
  virtual void event(const std::string& name, const nlohmann::json& params,
                     const std::string& outcome, std::optional<uint64_t> dur_ms) = 0;
  // ctx:checkpoint: durable before it returns, or an error.
  virtual std::optional<Error> checkpoint(const nlohmann::json& saved) = 0;
  // ctx:pause_profile: the profile pauses once this item has ended.
  virtual void pause_profile(uint64_t ms) = 0;
  // A try of run() begins (the first, a retry, or one after a ladder step);
  // returns its attempt number, which counts over runs.
  virtual int begin_try() = 0;
  // `done` once the profile's browser is up: at once, or after the
  // supervisor relaunched a browser that died or hung under the item; an
  // error when the profile went fatal or the run is stopping.
  virtual void when_ready(std::function<void(std::optional<Error>)> done) = 0;
};

class ItemExecutor {
 public:
  using Done = std::function<void(Result<nlohmann::json>)>;
  virtual ~ItemExecutor() = default;
  // Runs the item on `session`'s current page, with its call retry and
  // recovery ladder; `done` gets the item's result or its last error.
  virtual void run_item(const ItemAttempt& attempt,
                        std::shared_ptr<browser::BrowserSession> session,
                        std::shared_ptr<ItemHost> host, Done done) = 0;
};

}  // namespace belay::campaign
