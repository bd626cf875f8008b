#pragma once
// The seam between the runner (C++, decides when and where an item runs)
// and the script (Lua, decides what running it means). The runner never
// sees Lua; bindings implement this.

#include "campaign/browser_session.hpp"
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

namespace belay::campaign {

struct ItemAttempt {
  nlohmann::json item;
  std::string key;
  int index = 0;     // from 1
  int attempt = 1;   // from 1
  std::string profile;
  nlohmann::json saved;  // the last checkpoint, or null
};

class ItemExecutor {
 public:
  using Done = std::function<void(Result<nlohmann::json>)>;
  virtual ~ItemExecutor() = default;
  // Runs one attempt of the campaign's run(page, item, ctx) on `session`'s
  // current page; `done` gets the item's result or its error.
  virtual void run_item(const ItemAttempt& attempt, std::shared_ptr<BrowserSession> session,
                        Done done) = 0;
};

}  // namespace belay::campaign
