#pragma once
// The console's evaluator (`belay repl`, and each `belay attach` client
// inside a running host), with no Lua in its interface. It owns a Runtime of
// its own — its own state, memory cap and instruction budget — so nothing
// typed at the prompt can disturb the campaign's scripts; the page and
// browser objects it hands out are weak references to the same browsers.
//
// A chunk runs as a task like any script: browser calls yield and the loop
// goes on serving the campaign; cancel() ends the call in progress with
// `cancelled` (Ctrl-C); a runaway chunk is stopped by the sandbox budget.
// Globals set at the prompt persist in one environment from chunk to chunk.

#include "browser/browser_session.hpp"
#include "core/error.hpp"
#include "repl/repl_chunk.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace belay::lua {

struct ReplReply {
  bool ok = true;
  std::string text;  // the values (tab-separated, like lua), or "kind: message (op)"
};

// A global function the console offers: JSON arguments in, a JSON value or
// an error out (status(), pause(p), ...). It runs synchronously.
using HostFunction = std::function<Result<nlohmann::json>(const nlohmann::json& args)>;
// A live run's profile -> its browser session (null: unknown profile).
using SessionLookup =
    std::function<std::shared_ptr<browser::BrowserSession>(const std::string& profile)>;

struct ReplOptions {
  std::vector<std::string> module_dirs;  // where require looks: the campaign's dir first
  std::string state_dir = ".";           // where captures go (api/script_files.hpp)
  std::function<void(std::string_view line)> print;  // print() and belay.log lines
  std::function<void(const std::string& name, const nlohmann::json& params)> event;
  uint64_t memory_bytes = 64u << 20;
  uint64_t instruction_budget = 0;  // per slice; 0: the sandbox's default
};

class Repl {
 public:
  using Done = std::function<void(ReplReply)>;

  // Fails only when the bundled libraries cannot be loaded.
  static Result<std::unique_ptr<Repl>> create(uv_loop_t* loop, ReplOptions options);
  virtual ~Repl() = default;

  // Profiles reachable at the prompt: page_of(p), browser_of(p), ctx_of(p),
  // use(p) (then `page` and `browser` follow p), step(p, name).
  virtual void set_session_lookup(SessionLookup lookup) = 0;
  // `page` and `browser` follow this profile's current page from now on.
  virtual std::optional<Error> use_profile(const std::string& profile) = 0;
  // The campaign at the prompt: `campaign` (its table) and `ladder()`.
  virtual std::optional<Error> load_campaign(const std::string& path) = 0;
  // Loads the campaign again before the next chunk (after a reload()).
  virtual void reload_campaign_later() = 0;
  virtual void define(const std::string& name, HostFunction function) = 0;

  // Runs a chunk (plan_chunk's rules; an incomplete one is an error here).
  // `done` is called once, from the loop, never from inside this call.
  virtual void evaluate(const std::string& text, Done done) = 0;
  virtual bool busy() const = 0;
  // Ends the running chunk's pending call with `cancelled`; false if none.
  virtual bool cancel(const std::string& why) = 0;
  virtual std::vector<std::string> complete(const std::string& word) = 0;
};

}  // namespace belay::lua
