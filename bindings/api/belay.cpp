#include "api/belay.hpp"

#include "api/belay_all.hpp"
#include "api/error.hpp"
#include "api/json.hpp"
#include "api/log.hpp"
#include "api/require.hpp"
#include "vm/error_value.hpp"
#include "vm/json_value.hpp"
#include "vm/readonly.hpp"
#include "vm/sandbox.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace belay::lua {
namespace {

bool start_sleep(lua_State* L) {
  const lua_Number ms = luaL_checknumber(L, 1);
  if (!(ms >= 0)) {
    push_error(L, Error{Kind::script, "belay.sleep: ms must be a number >= 0", "belay.sleep", {}});
    return false;
  }
  Runtime& runtime = Runtime::from(L);
  auto slot = runtime.begin_call(L, "belay.sleep");
  if (!slot) return false;
  // The timer belongs to the call: it goes when the call ends, either way.
  struct Sleep {
    UvHandle<uv_timer_t> timer;
    CallSlot slot;
  };
  auto sleep = std::make_shared<Sleep>();
  sleep->slot = *slot;
  uv_timer_init(runtime.loop(), sleep->timer.get());
  sleep->timer->data = sleep.get();
  runtime.on_call_abandoned(*slot, [sleep]() mutable { sleep->timer.reset(); });
  // The loop's cached time may be a busy neighbour's whole slice old.
  uv_update_time(runtime.loop());
  uv_timer_start(
      sleep->timer.get(),
      [](uv_timer_t* t) {
        auto* s = static_cast<Sleep*>(t->data);
        if (s == nullptr) return;
        CallSlot done = s->slot;
        s->timer.reset();  // drops data; the shared Sleep lives on in the abandon hook
        done.succeed_none();
      },
      static_cast<uint64_t>(ms), 0);
  return true;
}

BELAY_YIELDING_BINDING(sleep)

int l_now(lua_State* L) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  lua_pushinteger(L, std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  return 1;
}

// Loads scripts/belay/NAME.lua through require and stores its value as
// belay.NAME in the raw table at `table_idx`.
bool load_library(lua_State* L, int table_idx, const char* name) {
  lua_pushcfunction(L, l_require);
  lua_pushfstring(L, "belay.%s", name);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) return false;
  lua_setfield(L, table_idx, name);
  return true;
}

}  // namespace

std::string bundled_scripts_dir() {
  const char* env = std::getenv("BELAY_SCRIPTS_DIR");
  return env != nullptr && *env != '\0' ? env : BELAY_SCRIPTS_DIR;
}

bool install_belay(Runtime& runtime, const std::vector<std::string>& module_dirs) {
  lua_State* L = runtime.main();
  set_module_dirs(L, module_dirs);
  lua_pushcfunction(L, l_require);
  add_sandbox_global(L, "require");

  lua_createtable(L, 0, 12);
  const int belay = lua_gettop(L);
  lua_pushcfunction(L, l_sleep);
  lua_setfield(L, belay, "sleep");
  lua_pushcfunction(L, l_now);
  lua_setfield(L, belay, "now");
  lua_pushcfunction(L, l_belay_error);
  lua_setfield(L, belay, "error");
  lua_pushcfunction(L, belay_all);
  lua_setfield(L, belay, "all");
  // Where the campaign lives, absolute: scripts build file:// URLs and
  // paths beside themselves from it (they have no debug.getinfo).
  if (!module_dirs.empty()) {
    std::error_code ec;
    const std::string dir =
        std::filesystem::absolute(module_dirs.front(), ec).lexically_normal().string();
    lua_pushlstring(L, dir.data(), dir.size());
    lua_setfield(L, belay, "script_dir");
  }
  push_log_module(L);
  push_readonly(L, -1, "belay.log");
  lua_setfield(L, belay, "log");
  lua_pop(L, 1);
  push_json_module(L);
  push_readonly(L, -1, "belay.json");
  lua_setfield(L, belay, "json");
  lua_pop(L, 1);
  // The proxy is what scripts get; the libraries below are added to the
  // table behind it, which the proxy shows.
  push_readonly(L, belay, "belay");
  add_sandbox_global(L, "belay");
  for (const char* name : {"retry", "saga", "circuit"}) {
    if (!load_library(L, belay, name)) {
      lua_remove(L, belay);
      return false;
    }
  }
  lua_pop(L, 1);
  return true;
}

}  // namespace belay::lua
