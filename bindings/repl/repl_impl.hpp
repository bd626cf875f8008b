#pragma once
// Inside the console's evaluator: shared by repl.cpp (chunks, completion)
// and repl_globals.cpp (the globals it adds to the sandbox).

#include "config/campaign.hpp"
#include "repl/repl.hpp"
#include "vm/runtime.hpp"

#include <deque>

namespace belay::lua {

class ReplImpl final : public Repl {
 public:
  ReplImpl(uv_loop_t* loop, ReplOptions options);
  ~ReplImpl() override;
  std::optional<Error> init();

  void set_session_lookup(SessionLookup lookup) override;
  std::optional<Error> use_profile(const std::string& profile) override;
  std::optional<Error> load_campaign(const std::string& path) override;
  void reload_campaign_later() override { campaign_stale_ = true; }
  void define(const std::string& name, HostFunction function) override;

  void evaluate(const std::string& text, Done done) override;
  bool busy() const override { return task_ != nullptr; }
  bool cancel(const std::string& why) override;
  std::vector<std::string> complete(const std::string& word) override;

  // For the globals' C functions (repl_globals.cpp).
  static ReplImpl& from_upvalue(lua_State* L);
  std::shared_ptr<browser::BrowserSession> lookup(const std::string& profile) const;
  const std::shared_ptr<LoadedCampaign>& campaign() const { return campaign_; }
  const HostFunction& host_function(size_t index) const { return functions_[index]; }
  const std::string& profile_in_use() const { return profile_; }
  void set_profile_in_use(std::string profile) {
    profile_ = std::move(profile);
    page_shown_.reset();
  }

 private:
  void push_env(lua_State* L) const { lua_rawgeti(L, LUA_REGISTRYINDEX, env_ref_); }
  void set_global(const char* name);  // pops the value on the main thread
  void refresh_page_globals();
  std::optional<Error> run_in_env(const std::string& source, const char* chunkname);
  void finish(lua_State* task, const ResumeResult& result, const Done& done);

  ReplOptions options_;
  Runtime runtime_;
  // The console's lines share one scope: a page:on typed at the prompt
  // stays on until page:off, its page's end or the console's.
  std::shared_ptr<TaskScope> console_scope_ = std::make_shared<TaskScope>();
  int env_ref_ = LUA_NOREF;
  SessionLookup lookup_;
  std::string profile_;
  std::weak_ptr<browser::Page> page_shown_;  // what `page` was last set to
  std::shared_ptr<LoadedCampaign> campaign_;
  std::string campaign_path_;
  bool campaign_stale_ = false;
  std::deque<HostFunction> functions_;
  lua_State* task_ = nullptr;  // the chunk running now
};

// Adds page_of, browser_of, ctx_of, use, ladder and step to the env at `env_idx`.
void add_profile_globals(lua_State* L, int env_idx, ReplImpl* repl);
// Pushes a C closure that calls the host function `index` of `repl`.
void push_host_function(lua_State* L, ReplImpl* repl, size_t index);
// Lua source of the console's own helpers written in Lua (step).
extern const char kReplPrelude[];

}  // namespace belay::lua
