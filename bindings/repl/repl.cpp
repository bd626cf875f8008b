#include "repl/repl_impl.hpp"

#include "api/belay.hpp"
#include "api/ctx.hpp"
#include "api/handles.hpp"
#include "repl/repl_completion.hpp"
#include "repl/repl_printer.hpp"
#include "vm/error_value.hpp"
#include "vm/sandbox.hpp"

#include <filesystem>

namespace belay::lua {
namespace {

using Protected = std::function<void(lua_State*)>;

int protected_trampoline(lua_State* L) {
  auto* work = static_cast<Protected*>(lua_touserdata(L, 1));
  lua_remove(L, 1);
  (*work)(L);
  return 0;
}

// Runs `work` on L in protected mode with the values above `nargs` passed
// through, so a memory error while building values is an error, not a
// panic. Returns the error, if any.
std::optional<Error> run_protected(lua_State* L, int nargs, Protected work) {
  if (lua_checkstack(L, 3) == 0) return Error{Kind::sandbox, "out of stack", "", {}};
  lua_pushcfunction(L, protected_trampoline);
  lua_pushlightuserdata(L, &work);
  lua_rotate(L, -(nargs + 2), 2);
  if (lua_pcall(L, nargs + 1, 0, 0) == LUA_OK) return std::nullopt;
  Error e = to_error(L, -1);
  lua_pop(L, 1);
  return e;
}

// A chunk that failed before it could run still answers through a task, so
// every reply arrives the same way: from the loop.
int l_raise(lua_State* L) { return lua_error(L); }

Limits repl_limits(const ReplOptions& options) {
  Limits limits;
  limits.memory_bytes = options.memory_bytes;
  if (options.instruction_budget != 0) limits.slice_instructions = options.instruction_budget;
  return limits;
}

}  // namespace

ReplImpl::ReplImpl(uv_loop_t* loop, ReplOptions options)
    : options_(std::move(options)), runtime_(loop, repl_limits(options_)) {}

ReplImpl::~ReplImpl() = default;

std::optional<Error> ReplImpl::init() {
  auto print = options_.print;
  {
    // The campaign's folder (module_dirs' first) holds its files too.
    std::error_code ec;
    runtime_.hooks().state_dir =
        std::filesystem::absolute(options_.state_dir, ec).lexically_normal().string();
    if (!options_.module_dirs.empty()) {
      runtime_.hooks().campaign_dir =
          std::filesystem::absolute(options_.module_dirs.front(), ec).lexically_normal().string();
    }
  }
  runtime_.hooks().log = [print](std::string_view level, std::string_view message) {
    if (print) print("[" + std::string(level) + "] " + std::string(message));
  };
  runtime_.hooks().event = options_.event;
  runtime_.state().set_log([print](std::string_view line) {
    if (print) print(line);
  });
  lua_State* L = runtime_.main();
  register_page(L);
  register_browser(L);
  register_ctx(L);
  std::vector<std::string> dirs = options_.module_dirs;
  dirs.push_back(bundled_scripts_dir());
  if (!install_belay(runtime_, dirs)) {
    Error e = to_error(L, -1);
    lua_pop(L, 1);
    return e;
  }
  auto made = run_protected(L, 0, [this](lua_State* S) {
    push_sandbox_env(S);
    add_profile_globals(S, lua_gettop(S), this);
    env_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
  });
  if (made) return made;
  return run_in_env(kReplPrelude, "=console");
}

// Host-side set-up code in the console's environment (no yields expected).
std::optional<Error> ReplImpl::run_in_env(const std::string& source, const char* chunkname) {
  lua_State* task = runtime_.new_task();
  if (task == nullptr) return Error{Kind::sandbox, "no memory for the console", "", {}};
  std::optional<Error> error;
  if (load_sandboxed(task, source, chunkname) != LUA_OK) {
    error = to_error(task, -1);
  } else {
    push_env(task);
    lua_setupvalue(task, -2, 1);
    ResumeResult r =
        runtime_.state().resume(task, 0, runtime_.state().limits().top_level_instructions);
    if (r.status == ResumeStatus::error) error = to_error(task, -1);
  }
  runtime_.state().end_task(task);
  return error;
}

void ReplImpl::set_global(const char* name) {
  lua_State* L = runtime_.main();
  push_env(L);
  lua_insert(L, -2);
  lua_setfield(L, -2, name);  // the env's metatable has no __newindex
  lua_pop(L, 1);
}

void ReplImpl::set_session_lookup(SessionLookup lookup) { lookup_ = std::move(lookup); }

std::shared_ptr<browser::BrowserSession> ReplImpl::lookup(const std::string& profile) const {
  return lookup_ ? lookup_(profile) : nullptr;
}

std::optional<Error> ReplImpl::use_profile(const std::string& profile) {
  if (!lookup(profile)) return Error{Kind::config, "no profile named '" + profile + "'", "use", {}};
  set_profile_in_use(profile);
  refresh_page_globals();
  return std::nullopt;
}

void ReplImpl::refresh_page_globals() {
  auto session = lookup(profile_);
  if (!session) return;
  std::shared_ptr<browser::Page> page = session->current_page();
  if (page == page_shown_.lock() && page != nullptr) return;
  page_shown_ = page;
  run_protected(runtime_.main(), 0, [&](lua_State* L) {
    if (page) {
      push_page(L, page, session);
    } else {
      lua_pushnil(L);
    }
    set_global("page");
    push_browser(L, session);
    set_global("browser");
  });
}

std::optional<Error> ReplImpl::load_campaign(const std::string& path) {
  campaign_path_ = path;
  campaign_stale_ = false;
  auto loaded = lua::load_campaign(runtime_, path, LoadOptions{false, 1});
  if (!loaded) return loaded.error();
  campaign_ = loaded.value();
  return run_protected(runtime_.main(), 0, [this](lua_State* L) {
    campaign_->push_table(L);
    set_global("campaign");
  });
}

void ReplImpl::define(const std::string& name, HostFunction function) {
  functions_.push_back(std::move(function));
  const size_t index = functions_.size() - 1;
  run_protected(runtime_.main(), 0, [&](lua_State* L) {
    push_host_function(L, this, index);
    set_global(name.c_str());
  });
}

void ReplImpl::evaluate(const std::string& text, Done done) {
  if (campaign_stale_ && !campaign_path_.empty()) {
    if (auto e = load_campaign(campaign_path_); e && options_.print) {
      options_.print("the console keeps its old copy of the campaign: " + e->to_string());
    }
  }
  refresh_page_globals();
  lua_State* task = runtime_.new_task();
  if (task == nullptr) {
    return done(ReplReply{false, "sandbox: no memory left to run the chunk"});
  }
  const ChunkPlan plan = plan_chunk(text);
  bool failed = true;
  if (task_ != nullptr) {
    push_error(task, Error{Kind::script, "the console is still running a chunk", "", {}});
  } else if (plan.status == ChunkStatus::ready) {
    failed = load_sandboxed(task, plan.source, "=stdin") != LUA_OK;
  } else {
    push_error(task,
               Error{Kind::script,
                     plan.status == ChunkStatus::incomplete ? "incomplete chunk: " + plan.message
                                                            : plan.message,
                     "",
                     {}});
  }
  if (failed) {
    lua_pushcfunction(task, l_raise);
    lua_insert(task, -2);
    runtime_.start(task, 1,
                   [this, done](lua_State* t, const ResumeResult& r) { finish(t, r, done); });
    return;
  }
  push_env(task);
  lua_setupvalue(task, -2, 1);  // a main chunk's only upvalue is _ENV
  task_ = task;
  runtime_.start(
      task, 0,
      [this, done](lua_State* t, const ResumeResult& r) {
        task_ = nullptr;
        finish(t, r, done);
      },
      console_scope_);
}

void ReplImpl::finish(lua_State* task, const ResumeResult& result, const Done& done) {
  if (result.status == ResumeStatus::error) {
    return done(ReplReply{false, to_error(task, -1).to_string()});
  }
  std::string text;
  lua_State* L = runtime_.main();
  if (result.nresults > 0 && lua_checkstack(L, result.nresults + 3) != 0) {
    lua_xmove(task, L, result.nresults);
    const int n = result.nresults;
    auto failed = run_protected(L, n, [&text, n](lua_State* S) {
      for (int i = 1; i <= n; ++i) text += (i > 1 ? "\t" : "") + pretty_value(S, i);
    });
    if (failed) text = "<cannot print the result: " + failed->to_string() + ">";
  }
  done(ReplReply{true, std::move(text)});
}

bool ReplImpl::cancel(const std::string& why) {
  if (task_ == nullptr) return false;
  return runtime_.cancel_call(task_, Error{Kind::cancelled, why, "", {}});
}

std::vector<std::string> ReplImpl::complete(const std::string& word) {
  std::vector<std::string> out;
  refresh_page_globals();  // `page` may have been reopened since the last chunk
  lua_State* L = runtime_.main();
  run_protected(L, 0, [&](lua_State* S) {
    push_env(S);
    out = completion_candidates(S, -1, word);
  });
  return out;
}

ReplImpl& ReplImpl::from_upvalue(lua_State* L) {
  return *static_cast<ReplImpl*>(lua_touserdata(L, lua_upvalueindex(1)));
}

Result<std::unique_ptr<Repl>> Repl::create(uv_loop_t* loop, ReplOptions options) {
  auto repl = std::make_unique<ReplImpl>(loop, std::move(options));
  if (auto e = repl->init()) return *e;
  return std::unique_ptr<Repl>(std::move(repl));
}

}  // namespace belay::lua
